"""Command line of the course's grading tools; `python -m autograder --help` lists them."""

import argparse
import sys

from autograder import assignments, cluster_cli, grade, release, report, similarity


def parser():
    main = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Задания курса: генерация тетрадей студентов, проверка работ всей группы и отчёты по ней.",
    )
    commands = main.add_subparsers(dest="command", required=True)

    rel = commands.add_parser("release", help="сгенерировать exercises/ из solutions/")
    rel.add_argument("assignments", nargs="*", help="задания (по умолчанию все)")
    rel.add_argument("--all", action="store_true", help="все задания")
    rel.add_argument("--check", action="store_true", help="только проверить, что exercises/ не устарел")
    rel.set_defaults(run=release.main)
    grade.add_parser(commands)
    report.add_parser(commands)
    similarity.add_parser(commands)
    cluster_cli.add_parsers(commands)
    return main


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except assignments.UnknownAssignment as error:
        print(f"ошибка: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("прервано", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
