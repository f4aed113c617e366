/* The season queries of the PostgreSQL backend: not written yet. */
#include "store/store_pg_int.h"
#include "store/store_season_int.h"

const struct store_season_ops_s store_pg_season_ops = {0};
