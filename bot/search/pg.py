"""Retrieval inside PostgreSQL: weighted full-text search, trigram titles and authors, filters in SQL.

The database does the heavy lifting, so several bot processes share one index instead of
each holding its own. The signals mirror the in-process engine's and are fused the same way:

- ``bm25``: ``ts_rank`` over the weighted tsvector (title A, authors B, abstracts C), each word
  weighed by its idf (document frequencies kept exact in ``terms``), over bounded candidates
  (see ``CANDIDATES``), so a common word never makes the database rank half the library;
- ``title``: the same over the titles' own tsvector, word pairs as phrases ("gemma <-> 2");
- ``fuzzy``: rapidfuzz over the other signals' best titles (typo'd words are corrected first);
- ``semantic``: wordllama vectors kept in the database, searched in process (pgvector is
  not installed on these machines; see the note in the README).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
from rapidfuzz import fuzz, process

from bot.search.analysis import analyze
from bot.search.engine import FUZZY_STRONG, LONG_QUERY_TITLE, TITLE_QUERY_TERMS, WEIGHTS, cosine_scale
from bot.search.filters import Filters, category_matches
from bot.search.fusion import fuse, top_k
from bot.search.fuzzy import AuthorIndex, title_scores
from bot.search.lexical import MIN_CORRECTABLE
from bot.search.semantic import Embedder, SemanticIndex
from bot.text import key

if TYPE_CHECKING:
    from bot.store.postgres import PostgresStore

DEPTH = 100
# ts_rank's best title match is scaled to 1 (it has no absolute scale), so it weighs more
# than the in-process coverage (0-1) to play the same part (dev set: 0.3 -> 0.969, 0.5 -> 1.0).
PG_WEIGHTS = {**WEIGHTS, "title": 0.5}
MAX_TERMS = 24
# Candidates for ranking (ts_rank reads a candidate's tsvector once per query word, so they are
# bounded): the papers holding the query's rarest words while their document frequencies add
# up to at most CANDIDATES; when even the rarest word is commoner, the PAIR_CANDIDATES newest
# papers holding two of its PAIRED rarest words. The nearest papers by meaning are added.
# (Measured at 100k synthetic papers: an AND of every word instead of pairs, 0.844 hit@1; pairs
# and neighbours 0.875; 1,000 or 3,000 pair candidates, the same quality and up to 2x slower.)
CANDIDATES = 3_000
PAIRED = 4
PAIR_CANDIDATES = 300


def query_words(text: str) -> list[str]:
    """Analysed terms (as the store indexed them), safe in a tsquery: letters and digits only."""
    return list(dict.fromkeys(t for t in analyze(text) if t.isalnum()))[:MAX_TERMS]


def correct_words(store: PostgresStore, words: list[str]) -> list[str]:
    """Replace words the index does not know by close spellings it does (pg_trgm), like the
    in-process vocabulary does: ratio >= 80, else completions of the word as a prefix."""
    if not words:
        return words
    known = {
        row[0] for row in store._execute("SELECT term FROM terms WHERE term = ANY(%s) AND df > 0", (words,))
    }
    out: list[str] = []
    for word in words:
        if word in known or len(word) < MIN_CORRECTABLE or word.isdigit():
            out.append(word)
            continue
        rows = store._execute(
            "SELECT term FROM terms WHERE term %% %s AND df > 0 ORDER BY similarity(term, %s) DESC LIMIT 20",
            (word, word),
        )
        close = [
            c[0]
            for c in process.extract(word, [r[0] for r in rows], scorer=fuzz.ratio, score_cutoff=80, limit=2)
        ]
        if not close:
            rows = store._execute(
                "SELECT term FROM terms WHERE term LIKE %s AND df > 0 ORDER BY length(term) LIMIT 3",
                (word + "%",),
            )
            close = [r[0] for r in rows]
        out += close or [word]
    return list(dict.fromkeys(out))[:MAX_TERMS]


class PostgresAuthors:
    """Author look-ups in SQL; candidates are then judged by the same rules as in process."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    def __len__(self) -> int:
        return int(self.store._execute("SELECT COUNT(*) FROM author_keys WHERE papers > 0")[0][0])

    def _candidates(self, text: str, limit: int = 50) -> AuthorIndex:
        words = key(text).split()
        if not words:
            return AuthorIndex({})
        rows = self.store._execute(
            """SELECT author_key, name, papers FROM author_keys
               WHERE papers > 0 AND (author_key = %(q)s OR author_key LIKE %(last)s
                  OR author_key LIKE %(prefix)s OR author_key LIKE %(word)s OR author_key %% %(q)s)
               ORDER BY similarity(author_key, %(q)s) DESC LIMIT %(limit)s""",
            {
                "q": " ".join(words),
                "last": f"% {words[-1]}",
                "prefix": f"{words[0]}%",
                "word": f"% {words[0]}%",
                "limit": limit,
            },
        )
        names = {folded: (name, int(count)) for folded, name, count in rows}
        return AuthorIndex(names)

    def resolve(self, text: str, min_score: float = 88.0) -> list[str]:
        return self._candidates(text).resolve(text, min_score)

    def display(self, folded: str) -> str:
        rows = self.store._execute("SELECT name FROM author_keys WHERE author_key = %s", (folded,))
        return str(rows[0][0]) if rows else folded

    def complete(self, text: str, limit: int = 25) -> list[str]:
        if not key(text):
            rows = self.store._execute(
                "SELECT author_key, name FROM author_keys ORDER BY papers DESC LIMIT %s",
                (limit,),
            )
            return [row[1] for row in rows]
        return self._candidates(text, limit * 2).complete(text, limit)


class PostgresRetriever:
    def __init__(self, store: PostgresStore, semantic: SemanticIndex | None, semantic_ids: list[str]) -> None:
        self.store = store
        self.authors = PostgresAuthors(store)
        self.semantic = semantic
        self._semantic_ids = semantic_ids
        self._semantic_rows = {pid: row for row, pid in enumerate(semantic_ids)}
        self._size = store.count_papers()
        self._categories = [
            row[0] for row in store._execute("SELECT DISTINCT unnest(categories) FROM papers")
        ]
        self._df: dict[str, int] = {}

    @classmethod
    def build(cls, store: PostgresStore, embedder: Embedder | None) -> PostgresRetriever:
        """Load the stored embeddings for in-process vector search; papers without one (new or
        changed: put_papers drops a replaced paper's vector) are embedded and stored."""
        if embedder is None:
            return cls(store, None, [])
        from bot.search.build import _embed_chunk

        ids: list[str] = []
        rows: list[np.ndarray] = []
        missing: list[int] = []
        zero = np.zeros(embedder.dim, dtype=np.float16)
        for pid, vector in store.iter_vectors(embedder.name):
            if vector is None:
                missing.append(len(ids))
            ids.append(pid)
            rows.append(np.frombuffer(vector, dtype=np.float16) if vector is not None else zero)
        matrix = np.vstack(rows) if rows else np.zeros((0, embedder.dim), dtype=np.float16)
        del rows
        row_of = {ids[i]: i for i in missing}
        for start in range(0, len(missing), 2048):
            chunk = store.get_papers(ids[i] for i in missing[start : start + 2048])
            for paper, vector in zip(chunk, _embed_chunk(store, embedder, chunk), strict=True):
                matrix[row_of[paper.id]] = vector
        return cls(store, SemanticIndex.build(embedder, matrix), ids)

    def __len__(self) -> int:
        return self._size

    # -- filters as SQL -----------------------------------------------------------------
    def _where(self, filters: Filters | None, author_keys: list[str] | None) -> tuple[str, dict[str, Any]]:
        f = filters or Filters()
        clauses: list[str] = ["TRUE"]
        params: dict[str, Any] = {}
        if f.since:
            clauses.append("date >= %(since)s")
            params["since"] = f.since
        if f.until:
            clauses.append("date <= %(until)s")
            params["until"] = f.until
        if f.has_code is not None:
            clauses.append("has_code = %(has_code)s")
            params["has_code"] = f.has_code
        if f.category:
            clauses.append("categories && %(categories)s")
            params["categories"] = [c for c in self._categories if category_matches(f.category, c, [])]
        if author_keys is not None:
            clauses.append(
                "id IN (SELECT paper_id FROM paper_authors WHERE author_key = ANY(%(author_keys)s))"
            )
            params["author_keys"] = list(author_keys)
        if f.topic:
            clauses.append("tsv @@ to_tsquery('simple', %(topic)s)")
            params["topic"] = " & ".join(f.topic)
        return " AND ".join(clauses), params

    def _ids(self, sql: str, params: dict[str, Any]) -> list[tuple[str, float]]:
        return [(row[0], float(row[1])) for row in self.store._execute(sql, params)]

    # -- signals ------------------------------------------------------------------------
    def doc_freq(self, word: str) -> int:
        """Papers holding the word (kept by the store; cached until the corpus changes)."""
        if word not in self._df:
            self.doc_freqs([word])
        return self._df[word]

    def doc_freqs(self, words: list[str]) -> None:
        """Look up the words not cached yet, in one query."""
        missing = [w for w in words if w not in self._df]
        if missing:
            rows = self.store._execute("SELECT term, df FROM terms WHERE term = ANY(%s)", (missing,))
            self._df.update({w: 0 for w in missing} | {term: max(0, int(df)) for term, df in rows})

    def candidate_query(self, words: list[str]) -> tuple[str, str]:
        """Two tsqueries, one of them empty: the rarest words, else pairs of the rarest words."""
        self.doc_freqs(words)
        by_rarity = sorted(words, key=self.doc_freq)
        rare: list[str] = []
        total = 0
        for word in by_rarity:
            if total + self.doc_freq(word) > CANDIDATES:
                break
            rare.append(word)
            total += self.doc_freq(word)
        paired = by_rarity[:PAIRED]
        pairs = [f"({a} & {b})" for n, a in enumerate(paired) for b in paired[n + 1 :]]
        if rare:
            return " | ".join(rare), ""
        return "", " | ".join(pairs or by_rarity[:1])

    def _candidates_sql(self, column: str, where: str) -> str:
        """Ids of the candidates (params ``rare`` and ``pairs`` from ``candidate_query``)."""
        return f"""SELECT id FROM papers WHERE %(rare)s <> '' AND {column} @@ to_tsquery('simple', %(rare)s) AND {where}
                   UNION ALL
                   (SELECT id FROM papers WHERE %(pairs)s <> '' AND {column} @@ to_tsquery('simple', %(pairs)s)
                    AND {where} ORDER BY date DESC NULLS LAST LIMIT {PAIR_CANDIDATES})
                   UNION ALL SELECT id FROM papers WHERE id = ANY(%(near)s) AND {where}"""

    def _signals(
        self,
        text: str,
        filters: Filters | None,
        author_keys: list[str] | None,
        nearest: dict[int, float] | None = None,
    ) -> dict[str, dict[str, float]]:
        """Each signal's scores; ``nearest`` (a paper's own neighbours) replaces the text's."""
        words = correct_words(self.store, query_words(text))
        where, params = self._where(filters, author_keys)
        out: dict[str, dict[str, float]] = {}
        near: list[str] = []
        vector = None
        if self.semantic is not None:
            rows = nearest
            if rows is None:
                vector = self.semantic.embedder.embed([text])[0]
                rows = self.semantic.nearest(vector, DEPTH)
            near = [self._semantic_ids[i] for i in rows]
            scaled = {self._semantic_ids[i]: cosine_scale(s) for i, s in rows.items()}
            out["semantic"] = self._admit({i: s for i, s in scaled.items() if s > 0}, filters, author_keys)
        if words:
            params["rare"], params["pairs"] = self.candidate_query(words)
            params["near"] = near  # the nearest papers by meaning are ranked by their words too
            # ts_rank knows no corpus statistics: weigh each word's rank by its idf, as BM25 does
            # (dev set: ts_rank_cd of an OR query 0.84 hit@1, this 1.0). Abstracts and authors weigh
            # 0.4 of a title word, near the in-process index's title-counted-twice.
            terms = []
            for n, word in enumerate(words):
                params[f"w{n}"], params[f"i{n}"] = word, self.idf(word)
                terms.append(
                    f"ts_rank('{{0.1, 0.4, 0.4, 1.0}}', tsv, to_tsquery('simple', %(w{n})s), 1) * %(i{n})s"
                )
            out["bm25"] = self._ranked("tsv", " + ".join(terms), where, params)
            # Papers whose title holds a query word, ranked by those words weighed by idf, and word
            # pairs in order counted twice ("gemma 2" is not "gemma 3"), as the in-process title
            # field does. The rank reads the whole tsvector with the default weights (title 1,
            # abstract 0.2): a title word the abstract repeats counts a little more (dev set 1.0;
            # the title alone: 0.969).
            title = [f"ts_rank(tsv, to_tsquery('simple', %(w{n})s)) * %(i{n})s" for n in range(len(words))]
            for n in range(len(words) - 1):
                params[f"p{n}"] = f"{words[n]} <-> {words[n + 1]}"
                title.append(
                    f"2 * ts_rank(tsv, to_tsquery('simple', %(p{n})s)) * (%(i{n})s + %(i{n + 1})s) / 2"
                )
            out["title"] = self._ranked("title_tsv", " + ".join(title), where, params)
        if self.semantic is not None and vector is not None:
            # As in process: the inverted file misses about half of a short query's nearest papers,
            # so the papers the words found (the filters admitted them) get their exact cosine too.
            found = [
                self._semantic_rows[i]
                for i in dict.fromkeys([*out.get("bm25", {}), *out.get("title", {})])
                if i in self._semantic_rows and i not in out["semantic"]
            ]
            for row, cosine in self.semantic.similarities(vector, found).items():
                if cosine_scale(cosine) > 0:
                    out["semantic"][self._semantic_ids[row]] = cosine_scale(cosine)
        out["fuzzy"] = {
            i: (s - FUZZY_STRONG) / (100 - FUZZY_STRONG)
            for i, s in self._title_candidates(text, where, params, out).items()
            if s > FUZZY_STRONG
        }
        return out

    def _ranked(self, column: str, score: str, where: str, params: dict[str, Any]) -> dict[str, float]:
        """The ``DEPTH`` best of the candidates (``candidate_query`` on ``column``) by ``score``.
        Ranking reads every candidate's tsvector once per word, so candidates are bounded."""
        return dict(
            self._ids(
                f"""SELECT id, {score} AS r FROM papers WHERE id IN ({self._candidates_sql(column, where)})
                    ORDER BY r DESC LIMIT {DEPTH}""",
                params,
            )
        )

    def _title_candidates(
        self, text: str, where: str, params: dict[str, Any], signals: dict[str, dict[str, float]]
    ) -> dict[str, float]:
        """Fuzzy title scores (0-100) of the other signals' best papers: a typo'd title still shares
        words with the title (after typo correction), as in process. Trigram neighbours of the
        whole query were tried: for common words ("learning") they cost 0.5 s at 100k papers."""
        pool = list(
            dict.fromkeys([*list(signals.get("title", {}))[:30], *list(signals.get("bm25", {}))[:30]])
        )
        if not pool:
            return {}
        rows = self.store._execute(
            f"SELECT id, label_key FROM papers WHERE id = ANY(%(pool)s) AND {where}", {**params, "pool": pool}
        )
        ids = [row[0] for row in rows]
        return {
            ids[i]: s for i, s in title_scores(text, [row[1] for row in rows], list(range(len(rows)))).items()
        }

    # -- the Retriever interface ------------------------------------------------------------
    def best_title_score(self, text: str) -> float:
        return max(self.title_matches(text).values(), default=0.0)

    def search(
        self, text: str, k: int = 10, filters: Filters | None = None, author_keys: list[str] | None = None
    ) -> list[tuple[str, float]]:
        # ts_rank has no absolute scale: the title signal is scaled by its best, like BM25.
        signals = self._signals(text, filters, author_keys)
        if len(query_words(text)) > TITLE_QUERY_TERMS:  # a description, not a title (as in process)
            signals["title"] = {i: s * LONG_QUERY_TITLE for i, s in signals["title"].items()}
        fused = fuse(signals, PG_WEIGHTS, relative=frozenset({"bm25", "title"}))
        return [(pid, fused[pid]) for pid in top_k(fused, k)]

    def count(self, filters: Filters | None, author_keys: list[str] | None = None) -> int:
        where, params = self._where(filters, author_keys)
        return int(self.store._execute(f"SELECT COUNT(*) FROM papers WHERE {where}", params)[0][0])

    def newest(
        self, filters: Filters | None, author_keys: list[str] | None = None, k: int | None = None
    ) -> list[str]:
        where, params = self._where(filters, author_keys)
        limit = f"LIMIT {int(k)}" if k is not None else ""
        rows = self.store._execute(
            f"SELECT id FROM papers WHERE {where} ORDER BY date DESC NULLS LAST, id {limit}", params
        )
        return [row[0] for row in rows]

    def similar(self, paper_id: str, k: int = 5, filters: Filters | None = None) -> list[tuple[str, float]]:
        paper = self.store.get_paper(paper_id)
        if paper is None:
            return []
        row = self._semantic_rows.get(paper_id)
        near = None
        if self.semantic is not None and row is not None:
            near = self.semantic.nearest(self.semantic.vector(row), DEPTH + 1)
        signals = self._signals(paper.label, filters, None, near)  # its neighbours are candidates too
        signals.pop("fuzzy", None)
        signals.pop("title", None)
        if near is not None:
            signals["semantic"] = self._admit(
                {self._semantic_ids[i]: s for i, s in near.items()}, filters, None
            )
        for scores in signals.values():
            scores.pop(paper_id, None)
        fused = fuse(signals, {"semantic": 1.0, "bm25": 1.0})
        return [(pid, fused[pid]) for pid in top_k(fused, k)]

    def _admit(
        self, scores: dict[str, float], filters: Filters | None, author_keys: list[str] | None
    ) -> dict[str, float]:
        """The scored papers the filters admit (one query for the lot)."""
        if (filters is None or filters.is_empty()) and author_keys is None:
            return scores
        where, params = self._where(filters, author_keys)
        params["ids"] = list(scores)
        kept = {
            row[0]
            for row in self.store._execute(
                f"SELECT id FROM papers WHERE id = ANY(%(ids)s) AND {where}", params
            )
        }
        return {i: s for i, s in scores.items() if i in kept}

    def topic_terms(self, text: str) -> list[str]:
        return sorted(correct_words(self.store, query_words(text)), key=self.doc_freq)

    def title_matches(self, text: str) -> dict[str, float]:
        where, params = self._where(None, None)
        signals = {"title": dict(self._title_only(text))}
        return self._title_candidates(text, where, params, signals)

    def _title_only(self, text: str) -> Iterable[tuple[str, float]]:
        words = query_words(text)
        if not words:
            return []
        rare, pairs = self.candidate_query(words)
        return self._ids(
            f"""SELECT id, ts_rank(title_tsv, t) AS r FROM papers, to_tsquery('simple', %(t)s) t
                WHERE id IN ({self._candidates_sql("title_tsv", "TRUE")}) ORDER BY r DESC LIMIT 30""",
            {"rare": rare, "pairs": pairs, "t": " | ".join(words), "near": []},
        )

    def complete_titles(self, text: str, limit: int = 25) -> list[str]:
        q = key(text)
        if not q:
            return self.newest(None, None, limit)
        params = {"prefix": q.replace("%", "").replace("_", "") + "%", "q": q, "limit": limit}
        starts = [
            row[0]
            for row in self.store._execute(
                "SELECT id FROM papers WHERE label_key LIKE %(prefix)s ORDER BY label_key LIMIT %(limit)s",
                params,
            )
        ]
        if len(starts) >= limit:  # titles starting with the text come first and fill the list
            return starts
        # Trigram neighbours only when needed: for a common word they cost seconds at 1M papers.
        rows = self.store._execute(
            """SELECT id FROM papers WHERE %(q)s <%% label_key
               ORDER BY word_similarity(%(q)s, label_key) DESC LIMIT %(limit)s""",
            params,
        )
        return list(dict.fromkeys([*starts, *(row[0] for row in rows)]))[:limit]

    def idf(self, term: str) -> float:
        df = self.doc_freq(term)
        return math.log1p((self._size - df + 0.5) / (df + 0.5))
