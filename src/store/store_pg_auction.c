/* The auction queries of the PostgreSQL backend: not written yet. */
#include "store/store_pg_int.h"
#include "store/store_auction_int.h"

const struct store_auction_ops_s store_pg_auction_ops = {0};
