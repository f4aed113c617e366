-- The season: a league's fixtures with their results (football), per-player match lines
-- (cricket) and the league's overrides of its sport's scoring rules. Points are never stored:
-- they are recomputed from these rows, so a rule change re-scores the whole season.
CREATE TABLE fixtures (
    id            TEXT PRIMARY KEY,
    league_id     TEXT NOT NULL REFERENCES leagues(id) ON DELETE CASCADE,
    external_id   TEXT NOT NULL,
    starts_ms     BIGINT NOT NULL,
    home_asset_id TEXT NOT NULL REFERENCES assets(id),
    away_asset_id TEXT NOT NULL REFERENCES assets(id),
    venue         TEXT NOT NULL DEFAULT '',
    round         TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL CHECK (status IN ('scheduled', 'live', 'finished', 'postponed',
                                                  'cancelled')),
    home_goals    BIGINT CHECK (home_goals IS NULL OR home_goals >= 0),
    away_goals    BIGINT CHECK (away_goals IS NULL OR away_goals >= 0),
    updated_ms    BIGINT NOT NULL,
    UNIQUE (league_id, external_id)
);
CREATE INDEX fixtures_by_time ON fixtures(league_id, starts_ms, id);

CREATE TABLE cricket_lines (
    league_id   TEXT NOT NULL REFERENCES leagues(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    asset_id    TEXT NOT NULL REFERENCES assets(id),
    runs        BIGINT NOT NULL CHECK (runs >= 0),
    wickets     BIGINT NOT NULL CHECK (wickets >= 0),
    catches     BIGINT NOT NULL CHECK (catches >= 0),
    stumpings   BIGINT NOT NULL CHECK (stumpings >= 0),
    run_outs    BIGINT NOT NULL CHECK (run_outs >= 0),
    updated_ms  BIGINT NOT NULL,
    PRIMARY KEY (league_id, external_id, asset_id)
);

CREATE TABLE scoring_overrides (
    league_id TEXT PRIMARY KEY REFERENCES leagues(id) ON DELETE CASCADE,
    doc       TEXT NOT NULL -- JSON: only what differs from the sport's defaults
);
