/* Money as text for human messages: "£13m", "£2.5m", "€950,000". Pure. */
#ifndef GAVEL_CORE_MONEY_H
#define GAVEL_CORE_MONEY_H

#include <stddef.h>
#include <stdint.h>

/* money_text writes amount (whole currency units) in currency (ISO code) into out (size n):
 * millions as "13m"/"2.5m" when exact to 100,000, else digits with thousands separators;
 * GBP, EUR and USD get their symbol, other codes a prefix ("INR 5m"). */
void money_text(const char *currency, int64_t amount, char *out, size_t n);

#endif
