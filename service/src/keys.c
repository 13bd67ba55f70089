/*
 * keys.c
 *	  The object store's key layout (see service/keys.h).  Ids are validated
 *	  hex before they get here; attempt and upload ids are cut to a fixed
 *	  length, so every key fits KEYS_MAX.
 */
#include <stdio.h>

#include "service/keys.h"

const char *const keys_project_folders[3] = {"uploads", "external", "results"};

/* An upload's body: uploads/<pid>/<dp>-<id, 24 characters>.bin or .json. */
void
keys_upload(char *out, size_t n, const char *pid, int dp, const char *id, int binary)
{
	snprintf(out, n, "uploads/%s/%d-%.24s.%s", pid, dp, id, binary ? "bin" : "json");
}

/* A party's external folder: external/<pid>/<dp>, with a final "/" when asked. */
void
keys_external(char *out, size_t n, const char *pid, int dp, int trailing_slash)
{
	snprintf(out, n, "external/%s/%d%s", pid, dp, trailing_slash ? "/" : "");
}

/* A project's folder under one of keys_project_folders: <folder>/<pid>/. */
void
keys_project(char *out, size_t n, const char *folder, const char *pid)
{
	snprintf(out, n, "%s/%s/", folder, pid);
}

/* A run's objects, or those under sub: results/<pid>/<rid>/<sub>. */
void
keys_run(char *out, size_t n, const char *pid, const char *rid, const char *sub)
{
	snprintf(out, n, "results/%s/%s/%s", pid, rid, sub ? sub : "");
}

/* A task's candidates: results/<pid>/<rid>/parts/<part>-<attempt, 16>.bin. */
void
keys_part(char *out, size_t n, const char *pid, const char *rid, int part, const char *attempt)
{
	snprintf(out, n, "results/%s/%s/parts/%d-%.16s.bin", pid, rid, part, attempt);
}

/* One attempt's results: results/<pid>/<rid>/<attempt, 16>/. */
void
keys_attempt(char *out, size_t n, const char *pid, const char *rid, const char *attempt)
{
	snprintf(out, n, "results/%s/%s/%.16s/", pid, rid, attempt);
}
