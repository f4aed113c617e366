/* The catalogue queries of the PostgreSQL backend: not written yet. */
#include "store/store_pg_int.h"
#include "store/store_catalogue_int.h"

const struct store_catalogue_ops_s store_pg_catalogue_ops = {0};
