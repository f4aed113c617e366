/* Hexadecimal digits, for percent-decoding URLs and query strings. */
#ifndef GAVEL_CORE_HEX_H
#define GAVEL_CORE_HEX_H

/* hex_value is the value 0..15 of the hex digit c (either case), or -1 when c is not one. */
int hex_value(int c);

#endif
