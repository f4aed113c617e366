/* The league queries of the PostgreSQL backend: not written yet. */
#include "store/store_pg_int.h"
#include "store/store_league_int.h"

const struct store_league_ops_s store_pg_league_ops = {0};
