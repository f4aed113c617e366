/* Account field rules: e-mail normalisation and validation, display names. Pure. */
#ifndef GAVEL_AUTH_ACCOUNT_H
#define GAVEL_AUTH_ACCOUNT_H

#include <stddef.h>

#define ACCOUNT_EMAIL_MAX 254
#define ACCOUNT_NAME_MIN 2
#define ACCOUNT_NAME_MAX 30 /* characters (code points) */

/* account_email_normalize trims surrounding white space, lower-cases ASCII letters and checks
 * the result is one plain address: local@domain, local 1..64 of [a-z0-9.!#$%&'*+/=?^_`{|}~-]
 * without leading, trailing or doubled dots, domain of dot-separated labels [a-z0-9-] (1..63,
 * no leading/trailing '-') with at least two labels, total <= ACCOUNT_EMAIL_MAX. Writes it to
 * out (size n). 0 or GV_EINVALID_REQUEST. */
int account_email_normalize(const char *in, char *out, size_t n);

/* account_name_normalize trims white space and checks ACCOUNT_NAME_MIN..ACCOUNT_NAME_MAX
 * characters of valid UTF-8 without control characters. Writes it to out (size n).
 * 0 or GV_EINVALID_REQUEST. */
int account_name_normalize(const char *in, char *out, size_t n);

/* account_default_name derives the first display name from a normalised e-mail: its local part,
 * cut to ACCOUNT_NAME_MAX characters. */
void account_default_name(const char *email, char *out, size_t n);

#endif
