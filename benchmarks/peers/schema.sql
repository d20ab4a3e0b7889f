-- The corpus in plain PostgreSQL tables, for PostGraphile (benchmarks/peers/postgraphile_peer.py).
-- Loaded from the same stored documents newsgraph serves; every index is one a mix kind's filter needs.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE providers (
  domain text PRIMARY KEY,
  name text NOT NULL
);

CREATE TABLE articles (
  id text PRIMARY KEY,
  title text NOT NULL,
  excerpt text,
  body text NOT NULL DEFAULT '',
  category text,
  type text,
  quality int,
  heat int,
  published boolean NOT NULL DEFAULT false,
  published_date_time timestamptz,
  original_url text,
  web_url text,
  amp_web_url text,
  cdn_amp_web_url text,
  topics text[] NOT NULL DEFAULT '{}',
  provider_domain text REFERENCES providers (domain),
  -- title, excerpt, body, topics, provider name and related titles (what newsgraph searches)
  search_source text NOT NULL DEFAULT '',
  search_text tsvector GENERATED ALWAYS AS (to_tsvector('simple', search_source)) STORED
);
COMMENT ON COLUMN articles.search_source IS E'@behavior -*';
COMMENT ON COLUMN articles.search_text IS E'@behavior -*';

CREATE TABLE images (
  article_id text NOT NULL REFERENCES articles (id),
  position int NOT NULL,
  url text NOT NULL,
  width int,
  height int,
  is_cached boolean NOT NULL DEFAULT false,
  PRIMARY KEY (article_id, position)
);

CREATE TABLE related (
  article_id text NOT NULL REFERENCES articles (id),
  position int NOT NULL,
  title text NOT NULL,
  excerpt text,
  published_date_time timestamptz,
  web_url text,
  type text,
  quality int,
  provider_domain text REFERENCES providers (domain),
  PRIMARY KEY (article_id, position)
);

-- The search: every term a word (the last may be a prefix, term:*), ranked, ties by id.
CREATE FUNCTION search_articles(query text) RETURNS SETOF articles AS $$
  SELECT * FROM articles WHERE search_text @@ to_tsquery('simple', query)
  ORDER BY ts_rank(search_text, to_tsquery('simple', query)) DESC, id
$$ LANGUAGE sql STABLE;

-- Facets of the matches of a search, as one JSON value (PostGraphile has no facets of its own).
CREATE FUNCTION search_facets(query text) RETURNS jsonb AS $$
  WITH m AS (SELECT * FROM articles WHERE search_text @@ to_tsquery('simple', query))
  SELECT jsonb_build_object(
    'topics', (SELECT coalesce(jsonb_agg(x), '[]') FROM (SELECT t AS value, count(*) AS count FROM m, unnest(m.topics) t
               GROUP BY t ORDER BY count(*) DESC, t LIMIT 10) x),
    'providers', (SELECT coalesce(jsonb_agg(x), '[]') FROM (SELECT provider_domain AS value, count(*) AS count FROM m
                  WHERE provider_domain IS NOT NULL GROUP BY provider_domain ORDER BY count(*) DESC, provider_domain LIMIT 10) x),
    'quality', (SELECT jsonb_build_object('count', count(quality), 'min', min(quality), 'max', max(quality), 'avg', avg(quality)) FROM m),
    'histogram', (SELECT coalesce(jsonb_agg(x ORDER BY x.value), '[]') FROM (SELECT to_char(date_trunc('month', published_date_time AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS value,
                  count(*) AS count FROM m WHERE published_date_time IS NOT NULL GROUP BY 1) x)
  )
$$ LANGUAGE sql STABLE;

-- Every facet of a broad filter (published, quality >= min, a window), as one JSON value.
CREATE FUNCTION broad_facets(since timestamptz, until timestamptz, min_quality int) RETURNS jsonb AS $$
  WITH m AS (SELECT * FROM articles WHERE published AND quality >= min_quality
             AND published_date_time >= since AND published_date_time < until)
  SELECT jsonb_build_object(
    'topics', (SELECT coalesce(jsonb_agg(x), '[]') FROM (SELECT t AS value, count(*) AS count FROM m, unnest(m.topics) t
               GROUP BY t ORDER BY count(*) DESC, t) x),
    'providers', (SELECT coalesce(jsonb_agg(x), '[]') FROM (SELECT provider_domain AS value, count(*) AS count FROM m
                  WHERE provider_domain IS NOT NULL GROUP BY provider_domain ORDER BY count(*) DESC, provider_domain) x),
    'categories', (SELECT coalesce(jsonb_agg(x), '[]') FROM (SELECT category AS value, count(*) AS count FROM m
                   WHERE category IS NOT NULL GROUP BY category ORDER BY count(*) DESC, category) x),
    'types', (SELECT coalesce(jsonb_agg(x), '[]') FROM (SELECT type AS value, count(*) AS count FROM m
              WHERE type IS NOT NULL GROUP BY type ORDER BY count(*) DESC, type) x),
    'published', (SELECT coalesce(jsonb_agg(x), '[]') FROM (SELECT published::text AS value, count(*) AS count FROM m GROUP BY published) x),
    'quality', (SELECT jsonb_build_object('count', count(quality), 'min', min(quality), 'max', max(quality), 'avg', avg(quality)) FROM m),
    'heat', (SELECT jsonb_build_object('count', count(heat), 'min', min(heat), 'max', max(heat), 'avg', avg(heat)) FROM m),
    'publishedDateTime', (SELECT jsonb_build_object('min', min(published_date_time), 'max', max(published_date_time)) FROM m),
    'histogram', (SELECT coalesce(jsonb_agg(x ORDER BY x.value), '[]') FROM (SELECT to_char(date_trunc('month', published_date_time AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS value,
                  count(*) AS count FROM m GROUP BY 1) x)
  )
$$ LANGUAGE sql STABLE;

-- Created after the load (benchmarks/peers/postgraphile_peer.py runs this part then).
-- @@ indexes
CREATE INDEX articles_provider_newest ON articles (provider_domain, published_date_time DESC, id);
CREATE INDEX articles_newest ON articles (published_date_time DESC, id);
CREATE INDEX articles_quality ON articles (quality DESC, id);
CREATE INDEX articles_published ON articles (published, published_date_time);
CREATE INDEX articles_topics ON articles USING gin (topics);
CREATE INDEX articles_search ON articles USING gin (search_text);
CREATE INDEX articles_title_trgm ON articles USING gin (title gin_trgm_ops);
CREATE INDEX related_provider ON related (provider_domain);
ANALYZE;
