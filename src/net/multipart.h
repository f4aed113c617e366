/* multipart/form-data (RFC 7578) reading, enough for a file upload: the boundary from the
 * Content-Type, then the part named `name`, returned as a slice of the body (nothing copied).
 * Pure: no I/O, no allocation. */
#ifndef GAVEL_NET_MULTIPART_H
#define GAVEL_NET_MULTIPART_H

#include <stddef.h>

#define MULTIPART_BOUNDARY_MAX 70 /* RFC 2046 */

/* multipart_boundary copies the boundary parameter of a multipart/form-data content type into
 * out (quotes removed). 0, or GV_EINVALID_REQUEST when the type is not multipart/form-data or
 * the boundary is missing, empty or longer than MULTIPART_BOUNDARY_MAX. */
int multipart_boundary(const char *content_type, char out[MULTIPART_BOUNDARY_MAX + 1]);

/* multipart_part finds the part whose Content-Disposition is form-data with name="name" in
 * body[0..len) and sets *data, *data_len to its content. 0, GV_ENOT_FOUND (no such part) or
 * GV_EINVALID_REQUEST (not well-formed: no opening or closing delimiter, a part without its
 * header block). */
int multipart_part(const char *body, size_t len, const char *boundary, const char *name,
                   const char **data, size_t *data_len);

#endif
