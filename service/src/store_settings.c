/*
 * store_settings.c
 *	  StoreOptions from the resolved STORE_SETTING_ROWS (dies naming a
 *	  setting out of range, as every startup error should).
 */
#include "service/store_settings.h"

/* Fill o from the STORE_SETTING_COUNT rows starting at rows (their values stay owned there). */
void
store_options_from_settings(const SvcSetting *rows, StoreOptions *o)
{
	o->url = rows[0].value;
	o->s3_endpoint = rows[1].value;
	o->s3_region = rows[2].value;
	o->s3_access_key = rows[3].value;
	o->s3_secret_key = rows[4].value;
	o->s3_session_token = rows[5].value;
	o->s3_addressing = rows[6].value;
	o->s3_attempts = (int) svc_setting_int(&rows[7], 100);
	o->s3_backoff_ms = (int) svc_setting_int(&rows[8], 60000);
	o->s3_part_bytes = (size_t) svc_setting_int(&rows[9], 5120) << 20;
	o->sts_role_arn = rows[10].value;
	o->sts_endpoint = rows[11].value;
	o->sts_seconds = (int) svc_setting_int(&rows[12], 43200);
	o->public_endpoint = rows[13].value;
}
