"""Posts per second of the full analysis on one core, against a naive baseline and spaCy's bare tokenizer.

    python benchmarks/bench_nlp.py [--posts 100000] [--corpus real|templates] [--config FILE]

``--corpus real`` (the default) takes the texts of real public tweets: the
25,013 of the Spanish airline tweets and TweetLID's training split (see
DATA.md; read from the training data folders, as ``listener train`` does),
shuffled and repeated up to ``--posts``, read with ``config/airline.yaml``:
posts about the airlines amid the everyday chatter of a real stream.
``--corpus templates`` takes 20 templates in the four languages (questions,
complaints, hashtags, typos, homonyms, promotions, plain chatter) with
``config/cinema.yaml``: 129 distinct texts, which the bare tokenizer's cache of
tokens reads almost for free. Two figures:

- in process, CPU time: the analysis against a baseline that finds aliases as
  substrings and calls any post with "?" a question;
- whole process: the installed ``listener analyze FILE`` over a JSON Lines
  file of the posts, as a user runs it (its default: one analysing process per
  core, at most four) and with ``--workers 1``, against a process that reads
  and parses the same file and runs ``spacy.blank("es").tokenizer`` over every
  text. Both pay their start-up and reading; each one's peak RSS is that of its
  largest process (``os.wait4``). These run on every core this one may use.
  The ratio is of wall time; that of CPU time is printed too, as it moves less
  on a busy machine.

The last line is ``nlp: <n> posts/s baseline=<n> posts/s analyze=<n> posts/s
analyze_1=<n> posts/s tokenizer=<n> posts/s ratio=<r> ratio_1=<r> cpu_ratio=<r> rss=<n> MB``
(``_1``: with one worker).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from listener.config import Config, load_config  # noqa: E402
from listener.records import Analysis, Mention, Post  # noqa: E402
from nlp import Analyzer  # noqa: E402

TEMPLATES = [
    "¿Alguien sabe si {brand} abre el domingo por la tarde?",
    "Llevo {n} días esperando que {brand} me devuelva el dinero de las entradas. Vergüenza.",
    "#{tag}NoContesta otra vez sin respuesta",
    "Qué cine me recomendáis en {city} para ver pelis en versión original?",
    "Me encanta la sala nueva de {brand}, la mejor pantalla de {city} 😍",
    "Estoy harta de {rival}, me paso a {brand}",
    "Hoy hace un día precioso en {city}, vamos a la playa",
    "Mañana cenamos con los amigos y luego ya veremos",
    "{brand_typo} ha subido otra vez los precios, un robo",
    "¿En serio? ¿{n} euros por unas palomitas? ¿Cómo es posible?",
    "Algú sap si el {brand} de {city} obre avui?",
    "Estic fart de {rival}, la sala bruta i la peli va començar tard",
    "Does anyone know if {brand} shows films in English in {city}?",
    "{rival} is the worst, sticky floors and rude staff. Never again.",
    "Alguém sabe se o {brand} de {city} tem filmes legendados?",
    "Adorei a sala do {rival}, som incrível!",
    "Sorteo! Gana 2 entradas para {brand} siguiendo nuestra cuenta. Link en bio",
    "GRACIAS {brand_upper} POR LA PREESTRENO DE ANOCHE!!!",
    "@{handle} no me deja pagar con tarjeta en la web, qué hago?",
    "Ir al cine un martes por la tarde es lo mejor que hay 🍿",
]


def real_posts(count: int, seed: int = 7) -> list[Post] | None:
    """``count`` posts with the texts (and TweetLID's authors) of real tweets, or None when their files are not here."""
    from nlp.corpus import texts_of

    found = []
    for prefix in ("es-airline", "tweetlid"):
        texts = texts_of(prefix)
        if texts is None:
            return None
        found += [(text, author) for text, author, _ in texts.values()]
    random.Random(seed).shuffle(found)
    created = datetime(2026, 11, 1, tzinfo=timezone.utc)
    return [Post(id=f"bench:{number}", source="bench", url="", author=author or f"user{number % 997}", author_name=None,
                 text=text, created_at=created)
            for number, (text, author) in zip(range(count), (found[i % len(found)] for i in range(count)))]


def generate(config: Config, count: int, seed: int = 7) -> list[Post]:
    rng = random.Random(seed)
    brand = config.brand.name
    rivals = [c.name for c in config.competitors] or ["Otra Marca"]
    handle = (config.brand.handles or ["@marca"])[0].lstrip("@")
    cities = ["Madrid", "Barcelona", "Valencia", "Sevilla", "Lisboa", "Bilbao", "Sabadell", "Santander"]
    created = datetime(2026, 11, 1, tzinfo=timezone.utc)
    posts = []
    for number in range(count):
        template = rng.choice(TEMPLATES)
        typo = list(brand)
        if len(typo) > 3:
            i = rng.randrange(1, len(typo) - 1)
            typo[i], typo[i + 1] = typo[i + 1], typo[i]
        text = template.format(
            brand=brand, rival=rng.choice(rivals), city=rng.choice(cities), n=rng.randint(2, 30),
            tag=re.sub(r"\W", "", brand), brand_typo="".join(typo), brand_upper=brand.upper(), handle=handle,
        )
        posts.append(Post(id=f"bench:{number}", source="bench", url="", author=f"user{number % 997}",
                          author_name=rng.choice(["Marta López", "ElCabr0n", "Joan", None, "Sarah"]),
                          text=text, created_at=created))
    return posts


class BaselineAnalyzer:
    """Aliases as substrings and "?" as a question: what the analysis must beat on quality."""

    def __init__(self, config: Config):
        self.aliases = [(alias.lower(), entity.name, role) for entity, role in config.entities
                        for alias in [entity.name, *entity.aliases, *entity.handles, *entity.hashtags]]

    def analyze(self, post: Post) -> Analysis:
        lowered = post.text.lower()
        mentions = tuple(Mention(name, role, post.text[i:i + len(alias)], i, i + len(alias), "name")
                         for alias, name, role in self.aliases for i in [lowered.find(alias)] if i >= 0)
        question = "?" in post.text
        return Analysis(mentions=mentions, intents=("question",) if question else (),
                        surface=bool(mentions and question), greeting="Hola")


def measure(run, posts: list[Post]) -> float:
    """Posts per second of CPU time: other work on a shared machine does not count against us."""
    started = time.process_time()
    count = run(posts)
    elapsed = time.process_time() - started
    assert count == len(posts), f"analysed {count} of {len(posts)} posts"
    return len(posts) / elapsed


# ``listener analyze`` as the user runs it: the console script installed beside this Python.
LISTENER = str(Path(sys.executable).with_name("listener"))
# What the bare tokenizer's process does: start Python, read and parse the same file, tokenize each text.
TOKENIZER = """
import json, sys
import spacy
tokenizer = spacy.blank("es").tokenizer
count = 0
with open(sys.argv[1], "rb") as stream:
    for line in stream:
        tokenizer(json.loads(line)["text"])
        count += 1
print(count)
"""


def write_posts(posts: list[Post], path: Path) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for post in posts:
            out.write(json.dumps({"id": post.id, "source": post.source, "text": post.text, "url": post.url,
                                  "author": post.author, "author_name": post.author_name,
                                  "created_at": post.created_at.isoformat()}, ensure_ascii=False) + "\n")


# A small process that runs a command and reports its wall time, CPU time and peak RSS. The command is
# started from it, not from this process: a child starts with its parent's peak RSS as its own.
RUNNER = """
import json, os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(json.dumps({"wall": time.perf_counter() - started, "cpu": usage.ru_utime + usage.ru_stime,
                  "rss": usage.ru_maxrss * 1024, "status": os.waitstatus_to_exitcode(status)}))
"""


def run_process(command: list[str], cores: set[int] | None = None) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak RSS in bytes (``ru_maxrss`` is in KiB on Linux) of a command on ``cores``."""
    on_cores = (lambda: os.sched_setaffinity(0, cores)) if cores else None
    done = subprocess.run([sys.executable, "-c", RUNNER, *command], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[1], preexec_fn=on_cores)
    result = json.loads(done.stdout)
    if result["status"]:
        raise SystemExit(f"{' '.join(command)} failed with status {result['status']}:\n{done.stderr}")
    return result["wall"], result["cpu"], result["rss"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--corpus", choices=["real", "templates"], default="real",
                        help="real tweets from the training data folders (default) or the templates")
    parser.add_argument("--config", help="default: config/airline.yaml for real tweets, config/cinema.yaml for the templates")
    args = parser.parse_args()
    posts = real_posts(args.posts) if args.corpus == "real" else None
    if args.corpus == "real" and posts is None:
        print("the real tweets (es-airline-tweets/, tweetlid-train/) are not in any training data folder "
              "(see DATA.md): using the templates")
        args.corpus = "templates"
    configs = Path(__file__).resolve().parents[1] / "config"
    args.config = args.config or str(configs / ("airline.yaml" if args.corpus == "real" else "cinema.yaml"))
    cores = None
    if hasattr(os, "sched_setaffinity"):
        cores = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {min(cores)})  # one core for the measures in this process
    config = load_config(args.config)
    posts = posts or generate(config, args.posts)
    analyzer = Analyzer(config)
    baseline = BaselineAnalyzer(config)
    list(analyzer.analyze_many(posts[:500]))  # warm up caches
    nlp_rate = measure(lambda p: sum(1 for _ in analyzer.analyze_many(p, batch_size=256)), posts)
    baseline_rate = measure(lambda p: sum(1 for post in p if baseline.analyze(post)), posts)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "posts.jsonl"
        write_posts(posts, path)
        command = [LISTENER, "analyze", "--config", args.config, str(path)]
        analyze = run_process(command, cores)
        analyze_1 = run_process([*command, "--workers", "1"], cores)
        tokenizer = run_process([sys.executable, "-c", TOKENIZER, str(path)], cores)
    rate = {name: len(posts) / result[0] for name, result in (("analyze", analyze), ("analyze_1", analyze_1), ("tokenizer", tokenizer))}
    ratio, ratio_1, cpu_ratio = tokenizer[0] / analyze[0], tokenizer[0] / analyze_1[0], tokenizer[1] / analyze[1]
    print(f"config: {args.config}; posts: {len(posts)} ({args.corpus}, {len({p.text for p in posts})} distinct texts); "
          f"{len(cores or ()) or 'all'} core(s) for the whole processes")
    print(f"in process (CPU time, one core): analysis {nlp_rate:.0f} posts/s, baseline {baseline_rate:.0f} posts/s")
    for name, (wall, cpu, rss) in (("listener analyze", analyze), ("  --workers 1", analyze_1), ("bare tokenizer", tokenizer)):
        print(f"whole process: {name:<16} {len(posts) / wall:8.0f} posts/s  {wall:6.1f} s wall  {cpu:6.1f} s CPU"
              f"  peak RSS {rss / 2**20:6.0f} MB")
    print(f"analyze / tokenizer: {ratio:.3f} of wall time ({ratio_1:.3f} with one worker), {cpu_ratio:.3f} of CPU time "
          f"(target 0.25); analyze peak RSS {max(analyze[2], analyze_1[2]) / 2**30:.2f} GB (limit 1.5)")
    print(f"nlp: {nlp_rate:.0f} posts/s baseline={baseline_rate:.0f} posts/s analyze={rate['analyze']:.0f} posts/s "
          f"analyze_1={rate['analyze_1']:.0f} posts/s tokenizer={rate['tokenizer']:.0f} posts/s ratio={ratio:.3f} "
          f"ratio_1={ratio_1:.3f} cpu_ratio={cpu_ratio:.3f} rss={max(analyze[2], analyze_1[2]) / 2**20:.0f} MB")


if __name__ == "__main__":
    main()
