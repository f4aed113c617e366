-- The shared catalogue: sports with their default scoring, competitions, assets and which
-- competitions each asset belongs to.
CREATE TABLE sports (
    key          TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    asset_label  TEXT NOT NULL,
    asset_plural TEXT NOT NULL,
    scoring      TEXT NOT NULL -- the default scoring document (JSON), API.md "Season"
);

INSERT INTO sports (key, name, asset_label, asset_plural, scoring) VALUES
 ('football', 'Football', 'Team', 'Teams',
  '{"sport":"football","rules":{"win":3,"draw":1,"loss":0,"goal":1}}'),
 ('cricket', 'Cricket', 'Player', 'Players',
  '{"sport":"cricket","rules":{"run":1,"wicket":20,"catch":10,"stumping":25,"runOut":20},"milestones":{"halfCentury":{"enabled":false,"threshold":50,"points":10},"century":{"enabled":false,"threshold":100,"points":25},"fiveWicketHaul":{"enabled":false,"threshold":5,"points":25}}}');

CREATE TABLE competitions (
    code   TEXT PRIMARY KEY,
    sport  TEXT NOT NULL REFERENCES sports(key),
    name   TEXT NOT NULL,
    season TEXT NOT NULL
);

CREATE TABLE assets (
    id           TEXT PRIMARY KEY,
    sport        TEXT NOT NULL REFERENCES sports(key),
    name         TEXT NOT NULL,
    short_name   TEXT NOT NULL DEFAULT '',
    country      TEXT NOT NULL DEFAULT '',
    team         TEXT NOT NULL DEFAULT '',
    role         TEXT NOT NULL DEFAULT '',
    provider_ids TEXT NOT NULL DEFAULT '{}', -- JSON object, e.g. {"footballData":"57"}
    updated_ms   BIGINT NOT NULL
);

CREATE INDEX assets_by_name ON assets(lower(name), id);
CREATE INDEX assets_by_sport_name ON assets(sport, lower(name), id);

CREATE TABLE asset_competitions (
    competition TEXT NOT NULL REFERENCES competitions(code) ON DELETE CASCADE,
    asset_id    TEXT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    PRIMARY KEY (competition, asset_id)
);

CREATE INDEX asset_competitions_by_asset ON asset_competitions(asset_id);
