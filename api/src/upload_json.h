/*
 * upload_json.h
 *	  Streaming parser of the entity service's JSON upload bodies.
 *
 * The body is fed in pieces as it arrives and never held whole: memory is
 * bounded by the longest single string (a CLK's base64, or a block id).
 * Each CLK is decoded and checked (strict base64, size) as soon as its
 * string ends and handed to the sink, with its record index; block
 * memberships likewise.  The forms:
 *   {"clks": ["<b64>", ...]}
 *   {"clknblocks": [["<b64>", <block id>, ...], ...]}
 *   {"encodings": ["<b64>", ...], "blocks": {"<index>": [<block id>, ...], ...}}
 * where a block id is a string or an integer.  The object-store pointer form
 * ("encodings" whose value is an object) is recognised and reported as
 * UPLOAD_FORM_POINTER with no further parsing.
 */
#ifndef UPLOAD_JSON_H
#define UPLOAD_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef enum UploadForm
{
	UPLOAD_FORM_NONE = 0,
	UPLOAD_FORM_CLKS,
	UPLOAD_FORM_CLKNBLOCKS,
	UPLOAD_FORM_ENCODINGS,
	UPLOAD_FORM_POINTER
} UploadForm;

/* Where parsed records go; a callback returning non-zero stops parsing. */
typedef struct UploadSink
{
	int			(*encoding) (void *arg, uint64_t index, const uint8_t *clk, size_t nbytes);
	int			(*block) (void *arg, uint64_t index, const char *id, size_t len);
	void	   *arg;
} UploadSink;

/* Bounds on what a client may send. */
typedef struct UploadLimits
{
	uint64_t	max_records;
	size_t		max_block_id;	/* characters */
	uint32_t	max_blocks_per_record;
} UploadLimits;

typedef struct UploadJson UploadJson;

extern UploadJson *upload_json_new(const UploadSink *sink, const UploadLimits *limits);
extern void upload_json_blocks_only(UploadJson *u, uint64_t count);
extern int	upload_json_feed(UploadJson *u, const char *data, size_t len);
extern int	upload_json_finish(UploadJson *u);
extern const char *upload_json_error(const UploadJson *u);
extern UploadForm upload_json_form(const UploadJson *u);
extern uint64_t upload_json_count(const UploadJson *u);
extern size_t upload_json_nbytes(const UploadJson *u);
extern void upload_json_free(UploadJson *u);

#endif							/* UPLOAD_JSON_H */
