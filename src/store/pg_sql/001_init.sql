-- Server metadata as key/value pairs (e.g. the instance id, the catalogue version loaded).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
