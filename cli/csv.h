/*
 * csv.h
 *	  A streaming CSV reader with Python's csv module's default rules
 *	  (comma, double quotes, "" inside quotes, quotes elsewhere literal,
 *	  CRLF or LF), one record at a time in constant memory per record.
 */
#ifndef CSV_H
#define CSV_H

#include <stddef.h>
#include <stdio.h>

typedef struct CsvReader CsvReader;

/* One record: nfields fields, field i at text + off[i], len[i] bytes (NUL after each). */
typedef struct CsvRecord
{
	char	   *text;
	size_t	   *off;
	size_t	   *len;
	int			nfields;
	long		line;			/* line the record starts on (1-based) */
} CsvRecord;

extern CsvReader *csv_open(FILE *f, size_t max_record);
extern int	csv_next(CsvReader *r, CsvRecord *rec, char *err, size_t errlen);
extern void csv_close(CsvReader *r);

#endif							/* CSV_H */
