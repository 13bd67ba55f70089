/*
 * keys.h
 *	  The object store's key layout, its one home: where the API writes an
 *	  upload, a party's folder for external uploads, where a run's parts and
 *	  results go, and the folders a project's deletion empties.
 *
 *	    uploads/<project>/<party>-<id>.json|.bin    an upload's body
 *	    external/<project>/<party>/...              a party's own folder (STS)
 *	    results/<project>/<run>/parts/<part>-<attempt>.bin   a task's candidates
 *	    results/<project>/<run>/<attempt>/<name>    a run's results
 */
#ifndef SVC_KEYS_H
#define SVC_KEYS_H

#include <stddef.h>

#define KEYS_MAX 512

/* The top folders, each holding one folder per project. */
extern const char *const keys_project_folders[3];

extern void keys_upload(char *out, size_t n, const char *pid, int dp, const char *id, int binary);
extern void keys_external(char *out, size_t n, const char *pid, int dp, int trailing_slash);
extern void keys_project(char *out, size_t n, const char *folder, const char *pid);
extern void keys_run(char *out, size_t n, const char *pid, const char *rid, const char *sub);
extern void keys_part(char *out, size_t n, const char *pid, const char *rid, int part, const char *attempt);
extern void keys_attempt(char *out, size_t n, const char *pid, const char *rid, const char *attempt);

#endif							/* SVC_KEYS_H */
