/* E-mail and display-name rules shared by sign-in, the CLI and the profile endpoint. */
#include "auth/account.h"

#include "core/err.h"
#include "core/utf8.h"

#include <string.h>

static int account_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Trims in into [*start, *start + *len). */
static void account_trim(const char *in, const char **start, size_t *len)
{
    size_t n = strlen(in);
    while (n && account_is_space(*in))
        in++, n--;
    while (n && account_is_space(in[n - 1]))
        n--;
    *start = in;
    *len = n;
}

static int account_local_ok(const char *s, size_t n)
{
    if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr(".!#$%&'*+/=?^_`{|}~-", c);
        if (!ok || c == '\0' || (c == '.' && s[i + 1] == '.'))
            return 0;
    }
    return 1;
}

static int account_domain_ok(const char *s, size_t n)
{
    size_t labels = 0, len = 0;
    for (size_t i = 0; i <= n; i++) {
        char c = i < n ? s[i] : '.';
        if (c == '.') {
            if (len == 0 || len > 63 || s[i - 1] == '-' || s[i - len] == '-')
                return 0;
            labels++;
            len = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
            len++;
        } else {
            return 0;
        }
    }
    return labels >= 2;
}

int account_email_normalize(const char *in, char *out, size_t n)
{
    const char *s;
    size_t len;
    account_trim(in, &s, &len);
    if (len == 0 || len > ACCOUNT_EMAIL_MAX || len >= n)
        return GV_EINVALID_REQUEST;
    for (size_t i = 0; i < len; i++)
        out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
    out[len] = '\0';
    char *at = strchr(out, '@');
    if (!at || strchr(at + 1, '@') || !account_local_ok(out, (size_t)(at - out)) ||
        !account_domain_ok(at + 1, strlen(at + 1)))
        return GV_EINVALID_REQUEST;
    return 0;
}

int account_name_normalize(const char *in, char *out, size_t n)
{
    const char *s;
    size_t len, chars = 0;
    account_trim(in, &s, &len);
    if (len >= n || !utf8_valid((const unsigned char *)s, len))
        return GV_EINVALID_REQUEST;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return GV_EINVALID_REQUEST;
        if ((c & 0xC0) != 0x80)
            chars++;
    }
    if (chars < ACCOUNT_NAME_MIN || chars > ACCOUNT_NAME_MAX)
        return GV_EINVALID_REQUEST;
    memcpy(out, s, len);
    out[len] = '\0';
    return 0;
}

void account_default_name(const char *email, char *out, size_t n)
{
    size_t len = strcspn(email, "@"), chars = 0, i = 0;
    for (; i < len && i + 1 < n; i++) {
        if (((unsigned char)email[i] & 0xC0) != 0x80 && ++chars > ACCOUNT_NAME_MAX)
            break;
        out[i] = email[i];
    }
    out[i] = '\0';
}
