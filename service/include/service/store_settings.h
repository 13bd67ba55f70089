/*
 * store_settings.h
 *	  The object store's settings, shared by every daemon that opens it:
 *	  a daemon puts STORE_SETTING_ROWS at the end of its settings table and
 *	  turns them into StoreOptions with store_options_from_settings.
 */
#ifndef STORE_SETTINGS_H
#define STORE_SETTINGS_H

#include "service/settings.h"
#include "service/store.h"

#define STORE_SETTING_ROWS \
	{"OBJECT_STORE_URL", NULL, 0, NULL}, \
	{"S3_ENDPOINT", "", 0, NULL}, \
	{"S3_REGION", "us-east-1", 0, NULL}, \
	{"S3_ACCESS_KEY_ID", "", 0, NULL}, \
	{"S3_SECRET_ACCESS_KEY", "", 1, NULL}, \
	{"S3_SESSION_TOKEN", "", 1, NULL}, \
	{"S3_ADDRESSING", "auto", 0, NULL}, \
	{"S3_ATTEMPTS", "6", 0, NULL}, \
	{"S3_BACKOFF_MS", "200", 0, NULL}, \
	{"S3_PART_SIZE_MB", "8", 0, NULL}, \
	{"S3_STS_ROLE_ARN", "", 0, NULL}, \
	{"S3_STS_ENDPOINT", "", 0, NULL}, \
	{"S3_STS_DURATION_SECONDS", "3600", 0, NULL}, \
	{"S3_PUBLIC_ENDPOINT", "", 0, NULL}

#define STORE_SETTING_COUNT 14

extern void store_options_from_settings(const SvcSetting *rows, StoreOptions *o);

#endif							/* STORE_SETTINGS_H */
