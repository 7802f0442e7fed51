"""Versioned schema migrations for the PostgreSQL store (its own sequence, like SQLite's)."""

from __future__ import annotations

from bot.store.changes import CHANGE_TABLES
from bot.store.fulltext import ASKED_TABLES, FULLTEXT_TABLES
from bot.store.team import team_tables

# (version, description, statements). Never edit a released entry: add one.
POSTGRES_MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "papers, authors, ingest log",
        [
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            "CREATE EXTENSION IF NOT EXISTS unaccent",
            # unaccent() is only STABLE; an IMMUTABLE wrapper lets indexes use it.
            """CREATE OR REPLACE FUNCTION paperbot_fold(text) RETURNS text
               LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
               AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$""",
            """CREATE TABLE papers (
                id TEXT PRIMARY KEY,
                title_key TEXT,
                label_key TEXT NOT NULL,            -- folded title (or label): trigram and prefix search
                arxiv_id TEXT,
                date DATE,
                category TEXT,
                categories TEXT[] NOT NULL DEFAULT '{}',
                has_code BOOLEAN NOT NULL DEFAULT false,
                data JSONB NOT NULL,                -- the Paper model: the source of truth
                tsv TSVECTOR NOT NULL,              -- title A, authors B, abstracts C
                added_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )""",
            "CREATE INDEX papers_title_key ON papers (title_key)",
            "CREATE UNIQUE INDEX papers_arxiv_id ON papers (arxiv_id) WHERE arxiv_id IS NOT NULL",
            "CREATE INDEX papers_date ON papers (date DESC NULLS LAST)",
            "CREATE INDEX papers_tsv ON papers USING gin (tsv)",
            "CREATE INDEX papers_label_trgm ON papers USING gin (label_key gin_trgm_ops)",
            "CREATE INDEX papers_label_prefix ON papers (label_key text_pattern_ops)",
            "CREATE INDEX papers_categories ON papers USING gin (categories)",
            """CREATE TABLE paper_authors (
                paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                author_key TEXT NOT NULL,
                name TEXT NOT NULL,
                PRIMARY KEY (paper_id, position)
            )""",
            "CREATE INDEX paper_authors_key ON paper_authors (author_key)",
            "CREATE INDEX paper_authors_key_trgm ON paper_authors USING gin (author_key gin_trgm_ops)",
            """CREATE TABLE ingests (
                id BIGSERIAL PRIMARY KEY,
                finished_at TEXT NOT NULL,
                added INTEGER NOT NULL,
                updated INTEGER NOT NULL,
                unchanged INTEGER NOT NULL,
                skipped INTEGER NOT NULL,
                files TEXT NOT NULL
            )""",
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        ],
    ),
    (
        2,
        "embeddings cache",
        [
            """CREATE TABLE embeddings (
                paper_id TEXT PRIMARY KEY REFERENCES papers(id) ON DELETE CASCADE,
                model TEXT NOT NULL,
                text_hash TEXT NOT NULL,
                vector BYTEA NOT NULL               -- float16 array
            )""",
        ],
    ),
    (
        3,
        "per-channel settings (Discord free text)",
        [
            """CREATE TABLE channel_settings (
                channel_id BIGINT PRIMARY KEY,
                guild_id BIGINT,
                free_text BOOLEAN NOT NULL DEFAULT false,
                updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )""",
        ],
    ),
    (
        4,
        "vocabulary of indexed terms (typo correction in the database)",
        [
            "CREATE TABLE terms (term TEXT PRIMARY KEY)",
            "CREATE INDEX terms_trgm ON terms USING gin (term gin_trgm_ops)",
            "INSERT INTO terms SELECT word FROM ts_stat('SELECT tsv FROM papers') ON CONFLICT DO NOTHING",
        ],
    ),
    (
        5,
        "daily digests: subscriptions, digests per (channel, day), posted papers, reactions",
        [
            """CREATE TABLE subscriptions (
                channel_id BIGINT PRIMARY KEY, guild_id BIGINT, time TEXT NOT NULL, tz TEXT NOT NULL,
                profile TEXT NOT NULL, post_when_empty INTEGER NOT NULL DEFAULT 0,
                paused INTEGER NOT NULL DEFAULT 0, last_error TEXT, updated_at TEXT NOT NULL)""",
            """CREATE TABLE digests (
                channel_id BIGINT NOT NULL, digest_date TEXT NOT NULL, status TEXT NOT NULL,
                claimed_at TEXT NOT NULL, posted_at TEXT, items TEXT, PRIMARY KEY (channel_id, digest_date))""",
            """CREATE TABLE posted (
                channel_id BIGINT NOT NULL, paper_id TEXT NOT NULL, digest_date TEXT NOT NULL,
                posted_at TEXT NOT NULL, PRIMARY KEY (channel_id, paper_id))""",
            """CREATE TABLE reactions (
                channel_id BIGINT NOT NULL, paper_id TEXT NOT NULL, user_id BIGINT NOT NULL,
                created_at TEXT NOT NULL, PRIMARY KEY (channel_id, paper_id, user_id))""",
        ],
    ),
    (
        6,
        "document frequencies in the vocabulary; titles in their own tsvector; distinct author keys",
        [
            # Search needs each query word's document frequency (idf, and which words are rare
            # enough to generate candidates): kept exact by put_papers, not counted per query.
            "ALTER TABLE terms ADD COLUMN df INTEGER NOT NULL DEFAULT 0",
            """UPDATE terms SET df = s.ndoc FROM ts_stat('SELECT tsv FROM papers') s
               WHERE terms.term = s.word""",
            """INSERT INTO terms (term, df) SELECT word, ndoc FROM ts_stat('SELECT tsv FROM papers')
               ON CONFLICT (term) DO NOTHING""",
            # A GIN index cannot filter by weight: "model:A" visited every paper with "model"
            # anywhere. Titles get their own column and index.
            "ALTER TABLE papers ADD COLUMN title_tsv TSVECTOR NOT NULL DEFAULT ''",
            "UPDATE papers SET title_tsv = ts_filter(tsv, '{a}')",
            "CREATE INDEX papers_title_tsv ON papers USING gin (title_tsv)",
            # Distinct author keys: fuzzy name look-ups scan these, not every (paper, author) row.
            """CREATE TABLE author_keys (
                author_key TEXT PRIMARY KEY,
                name TEXT NOT NULL,                 -- display spelling (accents kept when any has them)
                papers INTEGER NOT NULL DEFAULT 0
            )""",
            """INSERT INTO author_keys
               SELECT author_key, (array_agg(name ORDER BY name ~ '^[ -~]*$', name))[1], COUNT(DISTINCT paper_id)
               FROM paper_authors GROUP BY author_key""",
            "CREATE INDEX author_keys_trgm ON author_keys USING gin (author_key gin_trgm_ops)",
            "CREATE INDEX author_keys_papers ON author_keys (papers DESC)",
        ],
    ),
    (
        7,
        "search runs in process on both backends: the in-database search structures go",
        [
            # The in-process index (bot.search.build) is built from the papers themselves; the
            # tsvectors, vocabulary, author counts and trigram indexes served only the removed
            # in-database ranker, and every write paid for them.
            "DROP TABLE IF EXISTS terms",
            "DROP TABLE IF EXISTS author_keys",
            """ALTER TABLE papers DROP COLUMN IF EXISTS tsv, DROP COLUMN IF EXISTS title_tsv,
                 DROP COLUMN IF EXISTS label_key, DROP COLUMN IF EXISTS categories,
                 DROP COLUMN IF EXISTS has_code""",
            "DROP INDEX IF EXISTS paper_authors_key_trgm",
        ],
    ),
    (
        8,
        "the team's library: reading lists, votes, personal watches, shared links",
        team_tables("BIGSERIAL PRIMARY KEY"),
    ),
    (
        9,
        "full texts: one document per paper, its passages with section, page and anchor",
        FULLTEXT_TABLES,
    ),
    (
        10,
        "the change feed: papers stamped with the version that wrote them, tombstones of removed ones",
        CHANGE_TABLES,
    ),
    (
        11,
        "the papers people asked about (fulltext fetch --asked)",
        ASKED_TABLES,
    ),
]
