/*
 * upload_json.c
 *	  Streaming parser of JSON upload bodies (see upload_json.h).
 *
 * Two layers.  The tokenizer turns bytes into JSON tokens, keeping only the
 * string (or number) in progress, bounded by what the parser expects there.
 * The parser is an explicit state machine over the tokens of the three
 * upload forms; anything else is an error naming the byte offset.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pprl/clk_codec.h"
#include "upload_json.h"

#define KEY_MAX 32				/* longest top-level key we accept */
#define INDEX_MAX 20			/* digits of a record index */

enum
{
	K_CLKS = 1, K_CLKNBLOCKS = 2, K_ENCODINGS = 4, K_BLOCKS = 8
};

/* Tokenizer states. */
enum
{
	T_IDLE, T_STR, T_ESC, T_UHEX, T_NUM
};

/* Parser states (what the next token may be). */
typedef enum
{
	P_START, P_KEY_OR_END, P_KEY, P_COLON, P_AFTER_VALUE,
	P_LIST_OPEN, P_LIST_FIRST, P_LIST_ITEM, P_LIST_NEXT,
	P_CNB_OPEN, P_CNB_FIRST, P_CNB_ENTRY, P_CNB_CLK, P_CNB_AFTER, P_CNB_BLOCK, P_CNB_NEXT,
	P_BLK_OPEN, P_BLK_FIRST, P_BLK_KEY, P_BLK_COLON, P_BLK_ARR, P_BLK_ID_FIRST, P_BLK_ID,
	P_BLK_ID_NEXT, P_BLK_NEXT,
	P_DONE, P_POINTER
} ParseState;

/* Token kinds besides the punctuation characters themselves. */
#define TOK_STRING 's'
#define TOK_NUMBER 'n'

struct UploadJson
{
	UploadSink	sink;
	UploadLimits lim;
	uint64_t	offset;			/* bytes consumed */
	int			ts;
	char	   *buf;			/* string or number in progress */
	size_t		len;
	size_t		cap;
	int			uhex_n;
	uint32_t	ucode;
	ParseState	ps;
	int			seen;
	int			key;
	uint64_t	count;			/* encodings so far */
	uint64_t	cur;			/* record a block id belongs to */
	uint32_t	nblk;			/* block ids of the current record */
	bool		any_index;
	uint64_t	max_index;		/* largest record index in "blocks" */
	size_t		nbytes;			/* size of every encoding (the first's) */
	UploadForm	form;
	bool		blocks_only;	/* a blocks file: {"blocks": {...}} for count records */
	bool		failed;
	char		err[320];
	uint8_t    *dec;
};

/* Record the first error (printf style) with the current byte offset. */
static int
fail(UploadJson *u, const char *fmt, ...)
{
	va_list		ap;
	int			n;

	if (u->failed)
		return -1;
	u->failed = true;
	va_start(ap, fmt);
	n = vsnprintf(u->err, sizeof(u->err), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t) n < sizeof(u->err))
		snprintf(u->err + n, sizeof(u->err) - (size_t) n, " (at byte %llu)",
				 (unsigned long long) u->offset);
	return -1;
}

/* The longest string the parser accepts in its current state. */
static size_t
string_max(const UploadJson *u)
{
	switch (u->ps)
	{
		case P_LIST_FIRST:
		case P_LIST_ITEM:
		case P_CNB_CLK:
			return CLK_MAX_B64_LEN;
		case P_CNB_BLOCK:
		case P_BLK_ID_FIRST:
		case P_BLK_ID:
			return u->lim.max_block_id;
		case P_BLK_FIRST:
		case P_BLK_KEY:
			return INDEX_MAX;
		case P_POINTER:
			return 4096;
		default:
			return KEY_MAX;
	}
}

/* Decode and hand over one encoding. */
static int
take_encoding(UploadJson *u)
{
	ClkCodecError e;
	size_t		n;
	char		msg[200];

	if (u->count >= u->lim.max_records)
		return fail(u, "more than %llu encodings", (unsigned long long) u->lim.max_records);
	if (clk_b64_decode(u->buf, u->len, u->dec, &n, &e) != CLK_CODEC_OK)
	{
		clk_codec_strerror(&e, msg, sizeof(msg));
		return fail(u, "encoding %llu: %s", (unsigned long long) u->count, msg);
	}
	if (u->count == 0)
		u->nbytes = n;
	else if (n != u->nbytes)
		return fail(u, "encoding %llu has %zu bytes, the first had %zu",
					(unsigned long long) u->count, n, u->nbytes);
	if (u->sink.encoding && u->sink.encoding(u->sink.arg, u->count, u->dec, n) != 0)
		return fail(u, "encoding %llu was not accepted", (unsigned long long) u->count);
	u->cur = u->count++;
	u->nblk = 0;
	return 0;
}

/* Hand over one block id of the current record. */
static int
take_block(UploadJson *u, int tok)
{
	if (tok != TOK_STRING && tok != TOK_NUMBER)
		return fail(u, "a block id must be a string or an integer");
	if (++u->nblk > u->lim.max_blocks_per_record)
		return fail(u, "record %llu is in more than %u blocks",
					(unsigned long long) u->cur, u->lim.max_blocks_per_record);
	if (u->sink.block && u->sink.block(u->sink.arg, u->cur, u->buf, u->len) != 0)
		return fail(u, "block of record %llu was not accepted", (unsigned long long) u->cur);
	return 0;
}

/* Parse a "blocks" key: a record index in decimal. */
static int
take_index(UploadJson *u)
{
	uint64_t	v = 0;

	if (u->len == 0 || (u->len > 1 && u->buf[0] == '0'))
		return fail(u, "\"blocks\" keys must be record indices");
	for (size_t i = 0; i < u->len; i++)
	{
		if (u->buf[i] < '0' || u->buf[i] > '9')
			return fail(u, "\"blocks\" keys must be record indices");
		if (v > (UINT64_MAX - 9) / 10)
			return fail(u, "record index %.*s out of range", (int) u->len, u->buf);
		v = v * 10 + (uint64_t) (u->buf[i] - '0');
	}
	if (v >= u->lim.max_records)
		return fail(u, "record index %llu out of range", (unsigned long long) v);
	u->cur = v;
	u->nblk = 0;
	if (!u->any_index || v > u->max_index)
		u->max_index = v;
	u->any_index = true;
	return 0;
}

/* A top-level key: which one, and whether it fits with those seen. */
static int
take_key(UploadJson *u)
{
	static const struct
	{
		const char *name;
		int			bit;
	}			keys[] = {{"clks", K_CLKS}, {"clknblocks", K_CLKNBLOCKS},
	{"encodings", K_ENCODINGS}, {"blocks", K_BLOCKS}};
	int			bit = 0;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i].name) == u->len && memcmp(keys[i].name, u->buf, u->len) == 0)
			bit = keys[i].bit;
	if (u->blocks_only && bit != K_BLOCKS)
		return fail(u, "a blocks file has only the key \"blocks\"");
	if (!bit)
		return fail(u, "unknown key \"%.*s\": expected clks, clknblocks, or encodings with optional blocks",
					(int) u->len, u->buf);
	if (u->seen & bit)
		return fail(u, "duplicate key \"%.*s\"", (int) u->len, u->buf);
	u->seen |= bit;
	if (((u->seen & K_CLKS) != 0) + ((u->seen & K_CLKNBLOCKS) != 0) +
		((u->seen & (K_ENCODINGS | K_BLOCKS)) != 0) > 1)
		return fail(u, "clks, clknblocks and encodings cannot be combined");
	u->key = bit;
	u->ps = P_COLON;
	return 0;
}

/* Advance the parser by one token (a punctuation character, string or number). */
static int
token(UploadJson *u, int tok)
{
	switch (u->ps)
	{
		case P_START:
			if (tok != '{')
				return fail(u, "the upload must be a JSON object");
			u->ps = P_KEY_OR_END;
			return 0;
		case P_KEY_OR_END:
			if (tok == '}')
			{
				u->ps = P_DONE;
				return 0;
			}
			/* fall through */
		case P_KEY:
			if (tok != TOK_STRING)
				return fail(u, "expected a key");
			return take_key(u);
		case P_COLON:
			if (tok != ':')
				return fail(u, "expected ':'");
			u->ps = u->key == K_CLKNBLOCKS ? P_CNB_OPEN : u->key == K_BLOCKS ? P_BLK_OPEN : P_LIST_OPEN;
			return 0;
		case P_AFTER_VALUE:
			if (tok == '}')
				u->ps = P_DONE;
			else if (tok == ',')
				u->ps = P_KEY;
			else
				return fail(u, "expected ',' or '}'");
			return 0;
		case P_LIST_OPEN:
			if (tok == '{' && u->key == K_ENCODINGS)
			{
				u->form = UPLOAD_FORM_POINTER;
				u->ps = P_POINTER;
				return 0;
			}
			if (tok != '[')
				return fail(u, "expected a list of encodings");
			u->ps = P_LIST_FIRST;
			return 0;
		case P_LIST_FIRST:
			if (tok == ']')
			{
				u->ps = P_AFTER_VALUE;
				return 0;
			}
			/* fall through */
		case P_LIST_ITEM:
			if (tok != TOK_STRING)
				return fail(u, "an encoding must be a base64 string");
			u->ps = P_LIST_NEXT;
			return take_encoding(u);
		case P_LIST_NEXT:
			if (tok == ',')
				u->ps = P_LIST_ITEM;
			else if (tok == ']')
				u->ps = P_AFTER_VALUE;
			else
				return fail(u, "expected ',' or ']' in the list of encodings");
			return 0;
		case P_CNB_OPEN:
			if (tok != '[')
				return fail(u, "clknblocks must be a list");
			u->ps = P_CNB_FIRST;
			return 0;
		case P_CNB_FIRST:
			if (tok == ']')
			{
				u->ps = P_AFTER_VALUE;
				return 0;
			}
			/* fall through */
		case P_CNB_ENTRY:
			if (tok != '[')
				return fail(u, "each clknblocks entry must be a list [encoding, block id, ...]");
			u->ps = P_CNB_CLK;
			return 0;
		case P_CNB_CLK:
			if (tok != TOK_STRING)
				return fail(u, "a clknblocks entry must start with a base64 encoding");
			u->ps = P_CNB_AFTER;
			return take_encoding(u);
		case P_CNB_AFTER:
			if (tok == ',')
				u->ps = P_CNB_BLOCK;
			else if (tok == ']')
				u->ps = P_CNB_NEXT;
			else
				return fail(u, "expected ',' or ']' in a clknblocks entry");
			return 0;
		case P_CNB_BLOCK:
			u->ps = P_CNB_AFTER;
			return take_block(u, tok);
		case P_CNB_NEXT:
			if (tok == ',')
				u->ps = P_CNB_ENTRY;
			else if (tok == ']')
				u->ps = P_AFTER_VALUE;
			else
				return fail(u, "expected ',' or ']' after a clknblocks entry");
			return 0;
		case P_BLK_OPEN:
			if (tok != '{')
				return fail(u, "blocks must be an object of record index -> list of block ids");
			u->ps = P_BLK_FIRST;
			return 0;
		case P_BLK_FIRST:
			if (tok == '}')
			{
				u->ps = P_AFTER_VALUE;
				return 0;
			}
			/* fall through */
		case P_BLK_KEY:
			if (tok != TOK_STRING)
				return fail(u, "expected a record index");
			u->ps = P_BLK_COLON;
			return take_index(u);
		case P_BLK_COLON:
			if (tok != ':')
				return fail(u, "expected ':'");
			u->ps = P_BLK_ARR;
			return 0;
		case P_BLK_ARR:
			if (tok != '[')
				return fail(u, "a record's blocks must be a list");
			u->ps = P_BLK_ID_FIRST;
			return 0;
		case P_BLK_ID_FIRST:
			if (tok == ']')
			{
				u->ps = P_BLK_NEXT;
				return 0;
			}
			/* fall through */
		case P_BLK_ID:
			u->ps = P_BLK_ID_NEXT;
			return take_block(u, tok);
		case P_BLK_ID_NEXT:
			if (tok == ',')
				u->ps = P_BLK_ID;
			else if (tok == ']')
				u->ps = P_BLK_NEXT;
			else
				return fail(u, "expected ',' or ']' in a list of block ids");
			return 0;
		case P_BLK_NEXT:
			if (tok == ',')
				u->ps = P_BLK_KEY;
			else if (tok == '}')
				u->ps = P_AFTER_VALUE;
			else
				return fail(u, "expected ',' or '}' in blocks");
			return 0;
		case P_DONE:
			return fail(u, "data after the end of the JSON object");
		case P_POINTER:
			return 0;
	}
	return fail(u, "internal parser state");
}

/* Append a byte to the string or number in progress, within its bound. */
static int
append(UploadJson *u, char c)
{
	if (u->len >= string_max(u))
		return fail(u, "string longer than %zu characters", string_max(u));
	u->buf[u->len++] = c;
	return 0;
}

/* Append a code point from a \uXXXX escape as UTF-8. */
static int
append_utf8(UploadJson *u, uint32_t cp)
{
	if (cp >= 0xD800 && cp <= 0xDFFF)
		return fail(u, "\\u surrogates are not supported");
	if (cp < 0x80)
		return append(u, (char) cp);
	if (cp < 0x800)
		return append(u, (char) (0xC0 | (cp >> 6))) || append(u, (char) (0x80 | (cp & 0x3F)));
	return append(u, (char) (0xE0 | (cp >> 12))) || append(u, (char) (0x80 | ((cp >> 6) & 0x3F))) ||
		append(u, (char) (0x80 | (cp & 0x3F)));
}

/* End a number token: only integers are meaningful here (block ids). */
static int
end_number(UploadJson *u)
{
	size_t		i = u->buf[0] == '-' ? 1 : 0;

	u->ts = T_IDLE;
	if (i == u->len)
		return fail(u, "invalid number");
	for (; i < u->len; i++)
		if (u->buf[i] < '0' || u->buf[i] > '9')
			return fail(u, "only integer numbers are allowed (block ids)");
	return token(u, TOK_NUMBER);
}

/* A new parser; NULL when out of memory. */
UploadJson *
upload_json_new(const UploadSink *sink, const UploadLimits *limits)
{
	UploadJson *u = calloc(1, sizeof(UploadJson));
	size_t		cap = CLK_MAX_B64_LEN;

	if (!u)
		return NULL;
	u->sink = *sink;
	u->lim = *limits;
	if (u->lim.max_block_id > cap)
		cap = u->lim.max_block_id;
	u->cap = cap + 8;
	u->buf = malloc(u->cap);
	u->dec = malloc(clk_b64_max_decoded(CLK_MAX_B64_LEN));
	if (!u->buf || !u->dec)
	{
		upload_json_free(u);
		return NULL;
	}
	return u;
}

/*
 * Make a new parser read a blocks file ({"blocks": {...}}, the separate
 * object of a pointer upload) for the count encodings already read.
 */
void
upload_json_blocks_only(UploadJson *u, uint64_t count)
{
	u->blocks_only = true;
	u->count = count;
}

/* Feed the next piece of the body; 0, or -1 once the body is invalid. */
int
upload_json_feed(UploadJson *u, const char *data, size_t len)
{
	for (size_t i = 0; i < len && !u->failed; i++, u->offset++)
	{
		char		c = data[i];

		switch (u->ts)
		{
			case T_NUM:
				if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E')
				{
					append(u, c);
					break;
				}
				if (end_number(u) != 0)
					break;
				/* c starts something else */
				/* FALLTHROUGH */
			case T_IDLE:
				if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
					break;
				if (c == '"')
				{
					u->len = 0;
					u->ts = T_STR;
				}
				else if (c == '-' || (c >= '0' && c <= '9'))
				{
					u->len = 0;
					u->ts = T_NUM;
					append(u, c);
				}
				else if (strchr("{}[]:,", c) && c != '\0')
					token(u, c);
				else
					fail(u, "unexpected character '%c'", (c >= 0x20 && c < 0x7f) ? c : '?');
				break;
			case T_STR:
				if (c == '"')
				{
					u->ts = T_IDLE;
					token(u, TOK_STRING);
				}
				else if (c == '\\')
					u->ts = T_ESC;
				else if ((unsigned char) c < 0x20)
					fail(u, "control character in a string");
				else
					append(u, c);
				break;
			case T_ESC:
				u->ts = T_STR;
				switch (c)
				{
					case '"':
					case '\\':
					case '/':
						append(u, c);
						break;
					case 'b':
						append(u, '\b');
						break;
					case 'f':
						append(u, '\f');
						break;
					case 'n':
						append(u, '\n');
						break;
					case 'r':
						append(u, '\r');
						break;
					case 't':
						append(u, '\t');
						break;
					case 'u':
						u->ts = T_UHEX;
						u->uhex_n = 0;
						u->ucode = 0;
						break;
					default:
						fail(u, "invalid escape \\%c", (c >= 0x20 && c < 0x7f) ? c : '?');
				}
				break;
			case T_UHEX:
				{
					int			d = (c >= '0' && c <= '9') ? c - '0' :
						(c >= 'a' && c <= 'f') ? c - 'a' + 10 :
						(c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;

					if (d < 0)
					{
						fail(u, "invalid \\u escape");
						break;
					}
					u->ucode = u->ucode * 16 + (uint32_t) d;
					if (++u->uhex_n == 4)
					{
						u->ts = T_STR;
						append_utf8(u, u->ucode);
					}
				}
				break;
		}
	}
	return u->failed ? -1 : 0;
}

/* The body has ended: check it was a complete, consistent upload. */
int
upload_json_finish(UploadJson *u)
{
	if (u->failed)
		return -1;
	if (u->ts == T_NUM && end_number(u) != 0)
		return -1;
	if (u->ts != T_IDLE)
		return fail(u, "the body ends inside a string");
	if (u->ps != P_DONE && u->ps != P_POINTER)
		return fail(u, "the body ends before the JSON object does (truncated upload?)");
	if (u->form == UPLOAD_FORM_POINTER)
		return 0;
	if (u->blocks_only)
	{
		if (!(u->seen & K_BLOCKS))
			return fail(u, "a blocks file needs the key \"blocks\"");
		u->form = UPLOAD_FORM_ENCODINGS;
		if (u->any_index && u->max_index >= u->count)
			return fail(u, "blocks name record %llu, but there are only %llu encodings",
						(unsigned long long) u->max_index, (unsigned long long) u->count);
		return 0;
	}
	if (u->seen & K_CLKS)
		u->form = UPLOAD_FORM_CLKS;
	else if (u->seen & K_CLKNBLOCKS)
		u->form = UPLOAD_FORM_CLKNBLOCKS;
	else if (u->seen & K_ENCODINGS)
		u->form = UPLOAD_FORM_ENCODINGS;
	else if (u->seen & K_BLOCKS)
		return fail(u, "blocks without encodings");
	else
		return fail(u, "no encodings: expected clks, clknblocks or encodings");
	if (u->count == 0)
		return fail(u, "the upload has no encodings");
	if (u->any_index && u->max_index >= u->count)
		return fail(u, "blocks name record %llu, but there are only %llu encodings",
					(unsigned long long) u->max_index, (unsigned long long) u->count);
	return 0;
}

/* The error message (empty when there is none). */
const char *
upload_json_error(const UploadJson *u)
{
	return u->err;
}

/*
 * Which form the body has: known from the first top-level key on (a body
 * cannot mix forms), so that a consumer can choose how to store records
 * before the first one arrives.
 */
UploadForm
upload_json_form(const UploadJson *u)
{
	if (u->form != UPLOAD_FORM_NONE)
		return u->form;
	if (u->seen & K_CLKS)
		return UPLOAD_FORM_CLKS;
	if (u->seen & K_CLKNBLOCKS)
		return UPLOAD_FORM_CLKNBLOCKS;
	if (u->seen & (K_ENCODINGS | K_BLOCKS))
		return UPLOAD_FORM_ENCODINGS;
	return UPLOAD_FORM_NONE;
}

/* Encodings parsed so far. */
uint64_t
upload_json_count(const UploadJson *u)
{
	return u->count;
}

/* Bytes per encoding (0 before the first). */
size_t
upload_json_nbytes(const UploadJson *u)
{
	return u->nbytes;
}

/* Release a parser. */
void
upload_json_free(UploadJson *u)
{
	if (!u)
		return;
	free(u->buf);
	free(u->dec);
	free(u);
}
