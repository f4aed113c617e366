/* Money text for messages. */
#include "core/money.h"

#include <stdio.h>
#include <string.h>

static const char *money_symbol(const char *currency)
{
    if (strcmp(currency, "GBP") == 0)
        return "\xc2\xa3";
    if (strcmp(currency, "EUR") == 0)
        return "\xe2\x82\xac";
    if (strcmp(currency, "USD") == 0)
        return "$";
    return NULL;
}

/* Digits of v with ',' every three, into out. */
static void money_grouped(int64_t v, char *out, size_t n)
{
    char digits[32];
    int len = snprintf(digits, sizeof(digits), "%lld", (long long)v);
    size_t j = 0;
    for (int i = 0; i < len && j + 2 < n; i++) {
        if (i && (len - i) % 3 == 0)
            out[j++] = ',';
        out[j++] = digits[i];
    }
    out[j] = '\0';
}

void money_text(const char *currency, int64_t amount, char *out, size_t n)
{
    const char *sym = money_symbol(currency);
    char num[48];
    int neg = amount < 0;
    int64_t a = neg ? -amount : amount;
    if (a >= 1000000 && a % 100000 == 0) {
        if (a % 1000000 == 0)
            snprintf(num, sizeof(num), "%lldm", (long long)(a / 1000000));
        else
            snprintf(num, sizeof(num), "%lld.%lldm", (long long)(a / 1000000),
                     (long long)(a % 1000000 / 100000));
    } else {
        money_grouped(a, num, sizeof(num));
    }
    if (sym)
        snprintf(out, n, "%s%s%s", neg ? "-" : "", sym, num);
    else
        snprintf(out, n, "%s%s %s", neg ? "-" : "", currency, num);
}
