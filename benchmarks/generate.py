"""A synthetic seed corpus in the shipped seed's exact format, deterministic by seed.

    python -m benchmarks.generate OUT_DIR [--count 10000] [--seed 1]

or, from tests and other benchmarks, ``generate(out_dir, count, seed)``.

Each file has the keys of seeds/000_9a7be0820e1ffd4a.txt in the same order and
layout, with realistic variety: several hundred providers on a long-tail
(Zipf-like) distribution, topics from a vocabulary of about 200, 0-3 images,
0-4 related items (some pointing at other generated articles' URLs, so
``Related.article`` resolves), some mojibake, some non-ASCII text, dates over
three years, and bodies from empty to a few thousand characters.

Text is drawn from a Zipf-distributed vocabulary of 40,000 words (weight
1/rank): a head of real English words, then pseudo-words, names and places
made from syllables by a generator seeded with ``seed``. Most words are rare,
as in real news, so a search term matches anywhere from nearly every article
("the") to a handful; with a few hundred words every term matched ~80% of the
articles and search measurements meant little.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import itertools
import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

DEFAULT_COUNT = 10_000
# Changes when the same seed gives other files (benchmarks keep corpora and databases by it).
GENERATOR_VERSION = 2
PROVIDER_COUNT = 400
START = datetime(2019, 1, 1, tzinfo=timezone.utc)
SPAN_MINUTES = 3 * 365 * 24 * 60

# The head of the vocabulary, most frequent first: function words, then news words.
COMMON_WORDS = (
    "the of and to in a for on that is with said by at as from it was be has have are an will its "
    "new after over more than about who not but this their they were been year years two first also "
    "police city council court data privacy facial recognition vision model research university "
    "school election vote market bank energy climate water housing health hospital vaccine virus "
    "study report emails records lawsuit judge federal state county mayor budget tax policy "
    "technology software robot drone camera network security breach hacker cloud startup funding "
    "investors chip phone satellite rocket launch science ocean forest wildfire storm flood "
    "transit train airport traffic road bridge museum artist music film festival sports team season"
).split()
VOCABULARY_SIZE = 40_000
ZIPF_EXPONENT = 1.0
SYLLABLES = tuple(
    onset + vowel + coda
    for onset in ("", "b", "br", "c", "d", "dr", "f", "g", "gr", "h", "k", "kr", "l", "m", "n", "p", "pl",
                  "r", "s", "st", "sh", "t", "tr", "v", "w", "z")
    for vowel in ("a", "e", "i", "o", "u", "ai", "ou")
    for coda in ("", "", "n", "r", "s", "l", "m", "x")
)
PLACE_SUFFIXES = ("ville", "burg", "ton", "ford", "stad", "grad", "haven", "polis", "dale", "mouth")
TOPIC_ROOTS = (
    "AI", "Machine Learning", "Computer Vision", "Robotics", "Privacy", "Surveillance", "Policing",
    "Elections", "Climate", "Energy", "Health", "Vaccines", "Housing", "Education", "Transit",
    "Space", "Security", "Startups", "Finance", "Courts", "Media", "Sports", "Music", "Film",
    "Science", "Agriculture", "Water", "Labor", "Immigration", "Trade", "Chips", "Cloud", "Drones",
    "Oceans", "Wildfires", "Weather", "Museums", "Tourism", "Crime", "Budget",
)
TOPIC_QUALIFIERS = ("", "Policy", "Research", "Industry", "Ethics")
NAME_PARTS = (
    "Lens", "Tribune", "Herald", "Gazette", "Times", "Post", "Observer", "Courier", "Ledger", "Wire",
    "Journal", "Report", "Daily", "Review", "Monitor", "Chronicle", "Signal", "Beacon", "Record", "Voice",
)
PLACES = (
    "New Orleans", "Boston", "Austin", "Denver", "Seattle", "Ohio", "Texas", "Bay Area", "Chicago",
    "Zürich", "São Paulo", "Kraków", "Malmö", "Montréal", "Bogotá", "Reykjavík", "Ísafjörður",
    "München", "Göteborg", "Åland", "Łódź", "東京", "Київ", "Αθήνα",
)
NON_ASCII_WORDS = ("café", "naïve", "résumé", "façade", "coöperate", "jalapeño", "Zürich", "piñata")
# Typographic characters whose UTF-8 bytes read as cp1252 give the mojibake found in real feeds.
MOJIBAKE_SOURCES = ("’", "“", "”", "—", "é", "–")


@dataclass(frozen=True)
class Provider:
    name: str
    domain: str


def _providers(rng: random.Random) -> tuple[list[Provider], list[float]]:
    providers = []
    domains: set[str] = set()
    while len(providers) < PROVIDER_COUNT:
        place = rng.choice(PLACES)
        part = rng.choice(NAME_PARTS)
        name = f"The {place} {part}" if rng.random() < 0.5 else f"{place} {part}"
        slug = "".join(c for c in (place + part).lower() if c.isascii() and c.isalnum()) or "news"
        domain = f"{slug}{rng.randrange(1000)}.{rng.choice(('com', 'org', 'net', 'news', 'co.uk', 'de'))}"
        if domain in domains:
            continue
        domains.add(domain)
        providers.append(Provider(name, domain))
    weights = [1.0 / (rank + 1) ** 1.1 for rank in range(len(providers))]  # a long tail
    return providers, weights


def _topics() -> list[str]:
    vocabulary = []
    for qualifier in TOPIC_QUALIFIERS:
        for root in TOPIC_ROOTS:
            vocabulary.append(f"{root} {qualifier}".strip())
    return vocabulary  # 40 roots x 5 = 200


@dataclass(frozen=True)
class Vocabulary:
    """Words most frequent first, with cumulative Zipf weights for ``random.choices``."""

    words: tuple[str, ...]
    cumulative: tuple[float, ...]

    def draw(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self.cumulative, k=k)


def vocabulary(seed: int = 1, size: int = VOCABULARY_SIZE) -> Vocabulary:
    """The Zipf vocabulary of a seed: COMMON_WORDS, then pseudo-words (80%), names (12%) and places (8%),
    each distinct, interleaved in a seeded order so that the tail mixes all three kinds."""
    rng = random.Random(f"vocabulary-{seed}")
    words = list(dict.fromkeys(COMMON_WORDS))
    seen = set(words)
    while len(words) < size:
        syllables = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((1, 2, 2, 2, 3, 3, 4))))
        kind = rng.random()
        if kind < 0.12:
            word = syllables.capitalize()
        elif kind < 0.20:
            word = (syllables + rng.choice(PLACE_SUFFIXES)).capitalize()
        else:
            word = syllables
        if len(word) < 2 or word.casefold() in seen:
            continue
        seen.add(word.casefold())
        words.append(word)
    weights = (1.0 / (rank + 1) ** ZIPF_EXPONENT for rank in range(len(words)))
    return Vocabulary(tuple(words), tuple(itertools.accumulate(weights)))


def _mojibake(text: str) -> str:
    return text.encode("utf-8").decode("cp1252", errors="replace")


def _sentence(rng: random.Random, words_of: Vocabulary, low: int, high: int, mojibake: float = 0.03) -> str:
    """Zipf-drawn words; 15% of sentences carry a non-ASCII word and a few (``mojibake``) a mis-decoded character."""
    words = words_of.draw(rng, rng.randint(low, high))
    if rng.random() < 0.15:
        words[rng.randrange(len(words))] = rng.choice(NON_ASCII_WORDS + PLACES)
    if rng.random() < mojibake:
        mark = rng.choice(MOJIBAKE_SOURCES)
        at = rng.randrange(len(words))
        words[at] = words[at] + _mojibake(mark) + "s"
    text = " ".join(words)
    return text[0].upper() + text[1:]


def _quote(text: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar (same escapes).
    return json.dumps(text, ensure_ascii=False)


def _when(rng: random.Random) -> datetime:
    return START + timedelta(minutes=rng.randrange(SPAN_MINUTES))


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _urls(provider: Provider, moment: datetime, slug: str) -> dict[str, str]:
    base = f"https://{provider.domain}/{moment:%Y/%m/%d}/{slug}/"
    cdn_host = provider.domain.replace(".", "-")
    return {
        "originalUrl": base,
        "webUrl": base,
        "ampWebUrl": base + "amp/",
        "cdnAmpWebUrl": f"https://{cdn_host}.cdn.ampproject.org/c/s/{provider.domain}/{moment:%Y/%m/%d}/{slug}/amp/",
    }


def _image_lines(rng: random.Random, provider: Provider, indent: str) -> list[str]:
    width = rng.choice((600, 800, 1024, 1200, 1600, 2560))
    height = int(width * rng.choice((0.5, 0.5625, 0.667, 0.75)))
    url = f"https://cdn.{provider.domain}/images/{rng.getrandbits(48):012x}.jpg?w={width}"
    return [
        f'{indent}- url: {_quote(url)}',
        f"{indent}  width: {width}",
        f"{indent}  height: {height}",
        f"{indent}  isCached: {'true' if rng.random() < 0.8 else 'false'}",
    ]


def _secured(rng: random.Random) -> str:
    token = base64.b64encode(rng.randbytes(256)).decode()
    return f"{token};{base64.b64encode(rng.randbytes(16)).decode()}"


def _body(rng: random.Random, words: Vocabulary) -> str:
    if rng.random() < 0.2:
        return ""
    paragraphs = []
    for _ in range(rng.randint(1, 8)):
        paragraphs.append(" ".join(_sentence(rng, words, 6, 20, mojibake=0.01) + "." for _ in range(rng.randint(1, 6))))
    return "\n\n".join(paragraphs) + "\n"


@dataclass
class _Article:
    provider: Provider
    moment: datetime
    title: str
    urls: dict[str, str]


def generate(out_dir: str | Path, count: int = DEFAULT_COUNT, seed: int = 1) -> list[Path]:
    """Write count seed files into out_dir (created if missing); return their paths in order."""
    rng = random.Random(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    providers, weights = _providers(rng)
    topic_names = _topics()
    topic_weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(topic_names))]
    words = vocabulary(seed)
    width = max(3, len(str(count - 1)))

    # Articles first, so related items can point at other generated articles' URLs.
    articles = []
    for _ in range(count):
        provider = rng.choices(providers, weights)[0]
        moment = _when(rng)
        title = _sentence(rng, words, 5, 14)
        slug = "-".join(title.lower().split()[:8])
        slug = "".join(c for c in slug if c.isascii() and (c.isalnum() or c == "-")) or "story"
        articles.append(_Article(provider, moment, title, _urls(provider, moment, f"{slug}-{rng.randrange(10**6)}")))

    paths = []
    for n, item in enumerate(articles):
        lines = ["---", "category: news", f"title: {_quote(item.title)}"]
        lines.append(f"excerpt: {_quote(_sentence(rng, words, 15, 45))}")
        lines.append(f"publishedDateTime: {_stamp(item.moment)}")
        for key, url in item.urls.items():
            lines.append(f"{key}: {_quote(url)}")
        lines.append(f"type: {rng.choice(('article', 'article', 'article', 'video', 'opinion'))}")
        lines.append(f"quality: {rng.randint(0, 100)}")
        lines.append(f"heat: {rng.choice((-1, -1, 0, rng.randint(1, 1000)))}")
        lines.append(f"published: {'true' if rng.random() < 0.7 else 'false'}")
        lines += ["", "provider:", f"  name: {_quote(item.provider.name)}", f"  domain: {item.provider.domain}"]
        topics = sorted({rng.choices(topic_names, topic_weights)[0] for _ in range(rng.randint(1, 4))})
        lines += ["", "topics:", *(f"  - {_quote(t)}" for t in topics)]
        image_count = rng.choice((0, 1, 1, 1, 2, 3))
        if image_count:
            lines += ["", "images:"]
            for _ in range(image_count):
                lines += _image_lines(rng, item.provider, "  ")
        related_count = rng.choice((0, 1, 2, 2, 3, 4))
        if related_count:
            lines += ["", "related:"]
            for _ in range(related_count):
                lines += _related_lines(rng, words, articles, providers, weights)
        lines += ["", f"secured: {_quote(_secured(rng))}", "---", ""]
        text = "\n".join(lines) + _body(rng, words)
        path = out / f"{n:0{width}d}_{rng.getrandbits(64):016x}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def _related_lines(
    rng: random.Random, words: Vocabulary, articles: list[_Article], providers: list[Provider], weights: list[float]
) -> list[str]:
    if rng.random() < 0.3:  # another generated article: Related.article resolves to it
        other = rng.choice(articles)
        provider, moment, title = other.provider, other.moment, other.title
        urls = {k: v for k, v in other.urls.items() if k != "originalUrl"}
    else:
        provider = rng.choices(providers, weights)[0]
        moment = _when(rng)
        title = _sentence(rng, words, 5, 14)
        urls = {k: v for k, v in _urls(provider, moment, f"story-{rng.getrandbits(32):08x}").items() if k != "originalUrl"}
    if rng.random() < 0.4:
        urls.pop("ampWebUrl", None)
        urls.pop("cdnAmpWebUrl", None)
    lines = [f"  - title: {_quote(title)}", f"    excerpt: {_quote(_sentence(rng, words, 15, 45))}"]
    lines.append(f"    publishedDateTime: {_stamp(moment)}")
    lines += [f"    {key}: {_quote(url)}" for key, url in urls.items()]
    lines.append("    type: article")
    lines += ["    provider:", f"      name: {_quote(provider.name)}", f"      domain: {provider.domain}"]
    lines.append(f"    quality: {rng.randint(0, 100)}")
    image_count = rng.choice((0, 1, 1, 2))
    if image_count:
        lines.append("    images:")
        for _ in range(image_count):
            lines += _image_lines(rng, provider, "      ")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", metavar="OUT_DIR", help="folder to write the files into (created if missing)")
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help=f"number of files (default: {DEFAULT_COUNT})")
    parser.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same files (default: 1)")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    paths = generate(args.out_dir, args.count, args.seed)
    print(f"wrote {len(paths)} files to {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
