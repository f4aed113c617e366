-- Leagues with their settings, members (commissioner, managers, spectators) and the selected
-- assets in order.
CREATE TABLE leagues (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    sport                TEXT NOT NULL REFERENCES sports(key),
    competition          TEXT NOT NULL REFERENCES competitions(code),
    commissioner_id      TEXT NOT NULL REFERENCES users(id),
    status               TEXT NOT NULL DEFAULT 'setup' CHECK (status IN ('setup', 'auction', 'season')),
    budget               BIGINT NOT NULL,
    currency             TEXT NOT NULL,
    roster_size          BIGINT NOT NULL,
    min_managers         BIGINT NOT NULL,
    max_managers         BIGINT NOT NULL,
    lot_seconds          BIGINT NOT NULL,
    anti_snipe_seconds   BIGINT NOT NULL,
    min_bid              BIGINT NOT NULL,
    min_increment        BIGINT NOT NULL,
    intermission_seconds BIGINT NOT NULL,
    lot_order            TEXT NOT NULL CHECK (lot_order IN ('random', 'fixed')),
    reoffer_unsold       BIGINT NOT NULL,
    invite_code          TEXT NOT NULL UNIQUE,
    watch_code           TEXT NOT NULL UNIQUE,
    created_ms           BIGINT NOT NULL
);

CREATE TABLE league_members (
    league_id TEXT NOT NULL REFERENCES leagues(id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role      TEXT NOT NULL CHECK (role IN ('commissioner', 'manager', 'spectator')),
    joined_ms BIGINT NOT NULL,
    PRIMARY KEY (league_id, user_id)
);

CREATE INDEX league_members_by_user ON league_members(user_id, league_id);
-- Member lists page by (joined_ms, user_id) within a league: one index range per page.
CREATE INDEX league_members_by_join ON league_members(league_id, joined_ms, user_id);

CREATE TABLE league_assets (
    league_id TEXT NOT NULL REFERENCES leagues(id) ON DELETE CASCADE,
    position  BIGINT NOT NULL,
    asset_id  TEXT NOT NULL REFERENCES assets(id),
    PRIMARY KEY (league_id, position),
    UNIQUE (league_id, asset_id)
);
