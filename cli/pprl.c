/*
 * pprl.c
 *	  The `pprl` command line: encode CSV records into CLKs exactly as
 *	  clkhash does (the core library's encoder, core/src/encode), and check CSV files against a
 *	  linkage schema.
 *
 *	  pprl encode --schema S --secret-file F [--format json|binary]
 *	              [--output FILE] [--threads N] [--no-header] [--skip-bad] INPUT.csv
 *	  pprl validate --schema S [--no-header] INPUT.csv
 *
 *	  Encoding streams: the reader takes batches of records, worker threads
 *	  encode them, and batches are written in input order, so memory stays
 *	  constant whatever the file's size.  On a terminal a progress line is
 *	  kept up to date on stderr.  A bad record (wrong column count, a value
 *	  failing its feature's format, malformed CSV) stops the run with its
 *	  line and column, or with --skip-bad is reported and left out.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "pprl/encode.h"
#include "csv.h"

#define BATCH 2048
#define BATCH_BYTES (32 << 20)	/* a batch is handed over at 2048 records or 32 MiB */
/* a record: one field per feature of at most 131,072 characters (4 bytes each) */
#define MAX_RECORD(nf) ((size_t) (nf) * (131072 * 4 + 1) + 64)

/* A batch of records and, once encoded, their CLKs or errors. */
typedef struct Batch
{
	char	   *data;			/* fields, NUL-ended, back to back */
	size_t		dlen,
				dcap;
	size_t	   *off;			/* n * nf field offsets and lengths */
	size_t	   *len;
	long	   *line;
	int			n;
	uint8_t    *out;			/* n * bytes */
	EncError   *err;			/* per record; feature -2: fine */
	int			state;			/* 0 free, 1 queued, 2 done */
} Batch;

typedef struct Pipeline
{
	const EncSchema *schema;
	int			nf;
	int			bytes;
	Batch	   *batches;
	int			nbatches;
	int			next_take;		/* queue of batch indices in order */
	int			next_put;
	int			stop;
	pthread_mutex_t lock;
	pthread_cond_t work;
	pthread_cond_t done;
} Pipeline;

/* Print usage and exit 2. */
static void
usage(void)
{
	fprintf(stderr,
			"usage: pprl encode --schema SCHEMA.json --secret-file FILE [--format json|binary]\n"
			"                   [--output FILE] [--threads N] [--no-header] [--skip-bad] INPUT.csv\n"
			"       pprl validate --schema SCHEMA.json [--no-header] INPUT.csv\n");
	exit(2);
}

/* Read a whole (small) file; NULL with errno. */
static char *
read_file(const char *path, size_t *len, size_t max)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;
	size_t		n;

	if (!f)
		return NULL;
	if (!(buf = malloc(max + 1)))
	{
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, max + 1, f);
	fclose(f);
	if (n > max)
	{
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Encode every record of a batch (a worker's share of the work) with its cache. */
static void
encode_batch(Pipeline *p, Batch *b, EncCache *cache)
{
	const char **vals = malloc(sizeof(char *) * (size_t) p->nf);

	for (int r = 0; r < b->n; r++)
	{
		b->err[r].feature = -2;
		if (!vals)
		{
			b->err[r].feature = -1;
			strcpy(b->err[r].msg, "out of memory");
			continue;
		}
		for (int i = 0; i < p->nf; i++)
			vals[i] = b->data + b->off[(size_t) r * (size_t) p->nf + (size_t) i];
		if (enc_record(p->schema, vals, b->len + (size_t) r * (size_t) p->nf,
					   b->out + (size_t) r * (size_t) p->bytes, cache, &b->err[r]) != 0 && b->err[r].feature == -2)
			b->err[r].feature = -1;
	}
	free(vals);
}

/* Worker thread: take queued batches in order, encode, mark done. */
static void *
worker(void *arg)
{
	Pipeline   *p = arg;
	EncCache   *cache = enc_cache_new();	/* NULL: no cache, still correct */

	pthread_mutex_lock(&p->lock);
	for (;;)
	{
		Batch	   *b;

		while (!p->stop && p->batches[p->next_take % p->nbatches].state != 1)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->stop && p->batches[p->next_take % p->nbatches].state != 1)
			break;
		b = &p->batches[p->next_take++ % p->nbatches];
		b->state = 3;			/* taken */
		pthread_mutex_unlock(&p->lock);
		encode_batch(p, b, cache);
		pthread_mutex_lock(&p->lock);
		b->state = 2;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->lock);
	enc_cache_free(cache);
	return NULL;
}

/* Append one record's fields to a batch; -1 when memory runs out. */
static int
batch_add(Batch *b, const CsvRecord *rec, int nf)
{
	size_t		need = 0;

	for (int i = 0; i < nf; i++)
		need += rec->len[i] + 1;
	if (b->dlen + need > b->dcap)
	{
		size_t		nc = (b->dlen + need) * 2;
		char	   *d = realloc(b->data, nc);

		if (!d)
			return -1;
		b->data = d;
		b->dcap = nc;
	}
	for (int i = 0; i < nf; i++)
	{
		b->off[(size_t) b->n * (size_t) nf + (size_t) i] = b->dlen;
		b->len[(size_t) b->n * (size_t) nf + (size_t) i] = rec->len[i];
		memcpy(b->data + b->dlen, rec->text + rec->off[i], rec->len[i] + 1);
		b->dlen += rec->len[i] + 1;
	}
	b->line[b->n++] = rec->line;
	return 0;
}

/* Output state: the format, the stream, and how many CLKs went out. */
typedef struct Output
{
	FILE	   *f;
	int			binary;
	long long	written;
	long long	skipped;
	int			skip_bad;
	int			failed;
} Output;

/* Report a bad record: line, column and feature. */
static void
report(const EncSchema *s, long line, const EncError *e)
{
	if (e->feature >= 0)
		fprintf(stderr, "pprl: line %ld, column %d (%s): %s\n", line, e->feature + 1,
				enc_schema_identifier(s, e->feature), e->msg);
	else
		fprintf(stderr, "pprl: line %ld: %s\n", line, e->msg);
}

/* Write a finished batch in order (or stop at its first bad record). */
static void
write_batch(Pipeline *p, Batch *b, Output *o)
{
	char		b64[4 * 8192 / 3 + 8];

	for (int r = 0; r < b->n && !o->failed; r++)
	{
		if (b->err[r].feature != -2)
		{
			report(p->schema, b->line[r], &b->err[r]);
			if (o->skip_bad)
			{
				o->skipped++;
				continue;
			}
			o->failed = 1;
			break;
		}
		if (o->binary)
			fwrite(b->out + (size_t) r * (size_t) p->bytes, 1, (size_t) p->bytes, o->f);
		else
		{
			EVP_EncodeBlock((unsigned char *) b64, b->out + (size_t) r * (size_t) p->bytes, p->bytes);
			fprintf(o->f, "%s\"%s\"", o->written ? ", " : "", b64);
		}
		o->written++;
	}
}

/* Allocate the pipeline's batches. */
static int
batches_init(Pipeline *p)
{
	if (!(p->batches = calloc((size_t) p->nbatches, sizeof(Batch))))
		return -1;
	for (int i = 0; i < p->nbatches; i++)
	{
		Batch	   *b = &p->batches[i];

		b->off = malloc(sizeof(size_t) * BATCH * (size_t) p->nf);
		b->len = malloc(sizeof(size_t) * BATCH * (size_t) p->nf);
		b->line = malloc(sizeof(long) * BATCH);
		b->out = malloc((size_t) BATCH * (size_t) p->bytes);
		b->err = malloc(sizeof(EncError) * BATCH);
		if (!b->off || !b->len || !b->line || !b->out || !b->err)
			return -1;
	}
	return 0;
}

/* Show progress on a terminal, at most twice a second. */
static void
progress(long long n, struct timespec *t0, struct timespec *last, int final)
{
	struct timespec now;
	double		secs;

	if (!isatty(2))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!final && (now.tv_sec - last->tv_sec) + (now.tv_nsec - last->tv_nsec) / 1e9 < 0.5)
		return;
	*last = now;
	secs = (now.tv_sec - t0->tv_sec) + (now.tv_nsec - t0->tv_nsec) / 1e9;
	fprintf(stderr, "\rpprl: %lld records encoded, %.0f per second%s", n, secs > 0 ? n / secs : 0.0,
			final ? "\n" : "");
}

/* Check the header line against the schema's identifiers. */
static int
check_header(const EncSchema *s, const CsvRecord *rec)
{
	int			nf = enc_schema_features(s);

	if (rec->nfields != nf)
	{
		fprintf(stderr, "pprl: line %ld: the header has %d columns, the schema %d features\n",
				rec->line, rec->nfields, nf);
		return -1;
	}
	for (int i = 0; i < nf; i++)
		if (strcmp(rec->text + rec->off[i], enc_schema_identifier(s, i)) != 0)
		{
			fprintf(stderr, "pprl: line %ld, column %d: header '%s' but the schema's feature is '%s'\n",
					rec->line, i + 1, rec->text + rec->off[i], enc_schema_identifier(s, i));
			return -1;
		}
	return 0;
}

/* Encode a CSV file; the exit status. */
static int
encode(const EncSchema *s, FILE *in, Output *o, int threads, int header)
{
	Pipeline	p;
	pthread_t  *tids = calloc((size_t) threads, sizeof(pthread_t));
	CsvReader  *r = csv_open(in, MAX_RECORD(enc_schema_features(s)));
	CsvRecord	rec;
	char		err[256];
	int			got,
				fill = 0,
				oldest = 0,
				rc = 0;
	struct timespec t0,
				last = {0, 0};

	memset(&p, 0, sizeof(p));
	p.schema = s;
	p.nf = enc_schema_features(s);
	p.bytes = enc_schema_bytes(s);
	p.nbatches = 2 * threads + 2;
	if (!tids || !r || batches_init(&p) != 0)
	{
		fprintf(stderr, "pprl: out of memory\n");
		return 1;
	}
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.work, NULL);
	pthread_cond_init(&p.done, NULL);
	for (int i = 0; i < threads; i++)
		pthread_create(&tids[i], NULL, worker, &p);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!o->binary)
		fputs("{\"clks\": [", o->f);
	for (;;)
	{
		Batch	   *b = &p.batches[fill % p.nbatches];

		got = csv_next(r, &rec, err, sizeof(err));
		if (got > 0 && header)
		{
			header = 0;
			if (check_header(s, &rec) != 0)
			{
				rc = 1;
				break;
			}
			continue;
		}
		if (got == 0 && header)
		{
			fprintf(stderr, "pprl: the file is empty: a header line was expected (or --no-header)\n");
			rc = 1;
			break;
		}
		if (got > 0 && rec.nfields != p.nf)
		{
			fprintf(stderr, "pprl: line %ld: %d columns, the schema has %d features\n", rec.line, rec.nfields, p.nf);
			if (o->skip_bad)
			{
				o->skipped++;
				continue;
			}
			rc = 1;
		}
		if (got < 0)
		{
			fprintf(stderr, "pprl: %s\n", err);
			rc = 1;
		}
		if (got > 0 && rc == 0 && batch_add(b, &rec, p.nf) != 0)
		{
			fprintf(stderr, "pprl: out of memory\n");
			rc = 1;
		}
		/* hand over a full batch (or the last one), then write what is done */
		if (b->n > 0 && (b->n == BATCH || b->dlen >= BATCH_BYTES || got <= 0 || rc != 0))
		{
			pthread_mutex_lock(&p.lock);
			b->state = 1;
			fill++;
			pthread_cond_broadcast(&p.work);
			/* write the batches done so far, in order; keep at most nbatches - 1 in flight */
			while (oldest < fill && (p.batches[oldest % p.nbatches].state == 2 || fill - oldest >= p.nbatches - 1))
			{
				Batch	   *ob = &p.batches[oldest % p.nbatches];

				while (ob->state != 2)
					pthread_cond_wait(&p.done, &p.lock);
				pthread_mutex_unlock(&p.lock);
				write_batch(&p, ob, o);
				progress(o->written, &t0, &last, 0);
				pthread_mutex_lock(&p.lock);
				ob->n = 0;
				ob->dlen = 0;
				ob->state = 0;
				oldest++;
			}
			pthread_mutex_unlock(&p.lock);
		}
		if (got <= 0 || rc != 0 || o->failed)
			break;
	}
	/* drain: write every remaining batch in order */
	pthread_mutex_lock(&p.lock);
	while (oldest < fill)
	{
		Batch	   *ob = &p.batches[oldest % p.nbatches];

		while (ob->state != 2)
			pthread_cond_wait(&p.done, &p.lock);
		pthread_mutex_unlock(&p.lock);
		write_batch(&p, ob, o);
		pthread_mutex_lock(&p.lock);
		ob->n = 0;
		ob->dlen = 0;
		ob->state = 0;
		oldest++;
	}
	p.stop = 1;
	pthread_cond_broadcast(&p.work);
	pthread_mutex_unlock(&p.lock);
	for (int i = 0; i < threads; i++)
		pthread_join(tids[i], NULL);
	if (!o->binary)
		fputs("]}\n", o->f);
	progress(o->written, &t0, &last, 1);
	for (int i = 0; i < p.nbatches; i++)
	{
		free(p.batches[i].data);
		free(p.batches[i].off);
		free(p.batches[i].len);
		free(p.batches[i].line);
		free(p.batches[i].out);
		free(p.batches[i].err);
	}
	free(p.batches);
	free(tids);
	csv_close(r);
	return rc || o->failed ? 1 : 0;
}

/* Check every record of a CSV file; report each bad one; the exit status. */
static int
validate(const EncSchema *s, FILE *in, int header)
{
	CsvReader  *r = csv_open(in, MAX_RECORD(enc_schema_features(s)));
	CsvRecord	rec;
	char		err[256];
	int			got,
				nf = enc_schema_features(s);
	long long	good = 0,
				bad = 0;

	if (!r)
		return 1;
	while ((got = csv_next(r, &rec, err, sizeof(err))) > 0)
	{
		int			ok = 1;

		if (header)
		{
			header = 0;
			if (check_header(s, &rec) != 0)
				bad++;
			continue;
		}
		if (rec.nfields != nf)
		{
			fprintf(stderr, "pprl: line %ld: %d columns, the schema has %d features\n", rec.line, rec.nfields, nf);
			ok = 0;
		}
		for (int i = 0; ok && i < nf; i++)
		{
			EncError	e;

			if (enc_validate(s, i, rec.text + rec.off[i], rec.len[i], &e) != 0)
			{
				report(s, rec.line, &e);
				ok = 0;
			}
		}
		ok ? good++ : bad++;
	}
	if (got < 0)
	{
		fprintf(stderr, "pprl: %s\n", err);
		bad++;
	}
	else if (header)
	{
		fprintf(stderr, "pprl: the file is empty: a header line was expected (or --no-header)\n");
		bad++;
	}
	csv_close(r);
	fprintf(stderr, "pprl: %lld valid records, %lld bad\n", good, bad);
	return bad ? 1 : 0;
}

/* Parse the options and run a command. */
int
main(int argc, char **argv)
{
	const char *schema_path = NULL,
			   *secret_path = NULL,
			   *out_path = NULL,
			   *input = NULL,
			   *format = "json";
	int			threads = (int) sysconf(_SC_NPROCESSORS_ONLN),
				header = 1,
				rc;
	Output		o = {stdout, 0, 0, 0, 0, 0};
	char	   *schema_text,
			   *secret = NULL,
				err[512];
	size_t		schema_len,
				secret_len = 0;
	EncSchema  *s;
	FILE	   *in;
	int			is_encode;

	if (argc < 2 || (strcmp(argv[1], "encode") && strcmp(argv[1], "validate")))
		usage();
	is_encode = strcmp(argv[1], "encode") == 0;
	for (int i = 2; i < argc; i++)
	{
		if (strcmp(argv[i], "--schema") == 0 && i + 1 < argc)
			schema_path = argv[++i];
		else if (strcmp(argv[i], "--secret-file") == 0 && i + 1 < argc)
			secret_path = argv[++i];
		else if (strcmp(argv[i], "--output") == 0 && i + 1 < argc)
			out_path = argv[++i];
		else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
			format = argv[++i];
		else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (strcmp(argv[i], "--no-header") == 0)
			header = 0;
		else if (strcmp(argv[i], "--skip-bad") == 0)
			o.skip_bad = 1;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			usage();
		else
			input = argv[i];
	}
	if (!schema_path || !input || (is_encode && !secret_path) || threads < 1 || threads > 256 ||
		(strcmp(format, "json") && strcmp(format, "binary")))
		usage();
	o.binary = strcmp(format, "binary") == 0;
	if (!(schema_text = read_file(schema_path, &schema_len, 1 << 20)))
	{
		fprintf(stderr, "pprl: %s: %s\n", schema_path, strerror(errno));
		return 1;
	}
	if (secret_path && !(secret = read_file(secret_path, &secret_len, 1 << 20)))
	{
		fprintf(stderr, "pprl: %s: %s\n", secret_path, strerror(errno));
		free(schema_text);
		return 1;
	}
	/* one final line break, as an editor leaves it, is not part of the secret */
	if (secret_len > 0 && secret[secret_len - 1] == '\n')
		secret_len--;
	if (secret_len > 0 && secret[secret_len - 1] == '\r')
		secret_len--;
	/* validation needs no keys: any secret will do */
	s = enc_schema_parse(schema_text, schema_len, (const uint8_t *) (secret ? secret : "validate"),
						 secret ? secret_len : 8, err, sizeof(err));
	if (secret)
	{
		OPENSSL_cleanse(secret, secret_len);
		free(secret);
	}
	free(schema_text);
	if (!s)
	{
		fprintf(stderr, "pprl: %s: %s\n", schema_path, err);
		return 1;
	}
	if (!(in = strcmp(input, "-") == 0 ? stdin : fopen(input, "rb")))
	{
		fprintf(stderr, "pprl: %s: %s\n", input, strerror(errno));
		enc_schema_free(s);
		return 1;
	}
	if (out_path && !(o.f = fopen(out_path, "wb")))
	{
		fprintf(stderr, "pprl: %s: %s\n", out_path, strerror(errno));
		if (in != stdin)
			fclose(in);
		enc_schema_free(s);
		return 1;
	}
	rc = is_encode ? encode(s, in, &o, threads, header) : validate(s, in, header);
	if (is_encode && o.skipped)
		fprintf(stderr, "pprl: %lld bad records skipped\n", o.skipped);
	if (o.f != stdout && fclose(o.f) != 0)
		rc = 1;
	if (in != stdin)
		fclose(in);
	enc_schema_free(s);
	return rc;
}
