/*
 * s3_xml.h
 *	  Just enough XML for S3's answers: find the next <Tag>text</Tag> after
 *	  a cursor and decode its entities.  S3 bodies are flat and machine
 *	  written; no attributes or nesting of the same tag are needed.
 */
#ifndef S3_XML_H
#define S3_XML_H

#include <stddef.h>

extern int	s3_xml_next(const char *doc, const char *tag, const char **cursor,
						char *out, size_t outlen);
extern int	s3_xml_get(const char *doc, const char *tag, char *out, size_t outlen);

#endif							/* S3_XML_H */
