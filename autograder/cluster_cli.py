"""`python -m autograder scheduler` and `… worker`: Dask's own commands with the grader's settings.

The scheduler is plain `dask scheduler` with a bounded number of tries per job; a worker is
`dask worker` with N sandbox slots (the resource ``grader``) and N threads, no memory policing
by Dask (each sandbox has its own limits) and a nanny that restarts it if it dies.
"""

import os
import sys

from autograder import sandbox, settings

SECURITY_HELP = ("взаимный TLS: сертификат центра, сертификат и ключ этой машины (PEM); без них — "
                 "открытый tcp, только для доверенной частной сети")


def _tls(parser):
    group = parser.add_argument_group("TLS", SECURITY_HELP)
    group.add_argument("--tls-ca-file", default=None, help="сертификат центра сертификации")
    group.add_argument("--tls-cert", default=None, help="сертификат этой машины")
    group.add_argument("--tls-key", default=None, help="закрытый ключ этой машины")


def add_parsers(commands):
    scheduler = commands.add_parser(
        "scheduler", help="запустить планировщик кластера проверки (Dask)",
        description="Планировщик Dask для `grade --cluster`: на головной машине.")
    scheduler.add_argument("--host", default="127.0.0.1",
                           help="адрес, на котором слушать (127.0.0.1; 0.0.0.0 — все сети)")
    scheduler.add_argument("--port", type=int, default=settings.SCHEDULER_PORT,
                           help=f"порт ({settings.SCHEDULER_PORT}; 0 — любой свободный)")
    scheduler.add_argument("--scheduler-file", default=None, help="куда записать адрес планировщика (JSON)")
    _tls(scheduler)
    scheduler.set_defaults(run=scheduler_main)

    worker = commands.add_parser(
        "worker", help="запустить исполнителя кластера проверки (Dask)",
        description="Исполнитель Dask на машине, которая проверяет работы: та же копия репозитория, "
                    ".venv и bubblewrap. Перед первой работой задания проверяет в своей песочнице "
                    "тетрадь преподавателя; если она не набирает полный балл, исполнитель уходит из кластера.")
    worker.add_argument("address", nargs="?", default=None, help="адрес планировщика, например tcp://HEAD:8786")
    worker.add_argument("--scheduler-file", default=None, help="файл с адресом планировщика вместо address")
    worker.add_argument("--slots", type=int, default=len(os.sched_getaffinity(0)),
                        help="сколько работ проверять одновременно (по умолчанию — число ядер)")
    worker.add_argument("--name", default=None, help="имя исполнителя в сводке (по умолчанию — его адрес)")
    _tls(worker)
    worker.set_defaults(run=worker_main)


def _tls_args(args):
    return [item for flag, value in (("--tls-ca-file", args.tls_ca_file), ("--tls-cert", args.tls_cert),
                                     ("--tls-key", args.tls_key)) if value for item in (flag, value)]


def scheduler_main(args):
    protocol = "tls" if args.tls_cert else "tcp"
    command = ["distributed.cli.dask_scheduler", "--host", f"{protocol}://{args.host}", "--port", str(args.port),
               "--no-dashboard", *_tls_args(args)]
    if args.scheduler_file:
        command += ["--scheduler-file", args.scheduler_file]
    return _exec(command, {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": str(settings.CLUSTER_ALLOWED_FAILURES)})


def worker_main(args):
    if (args.address is None) == (args.scheduler_file is None):
        print("ошибка: укажите адрес планировщика или --scheduler-file (что-то одно)", file=sys.stderr)
        return settings.EXIT_INSTRUCTOR
    if args.slots < 1:
        print("ошибка: --slots ≥ 1", file=sys.stderr)
        return settings.EXIT_INSTRUCTOR
    kind = sandbox.mechanism()
    print(f"песочница этой машины: {kind}; мест для проверки: {args.slots}", file=sys.stderr)
    for warning in sandbox.warnings():
        print(f"\n!!! ВНИМАНИЕ: {warning}\n", file=sys.stderr)
    command = ["distributed.cli.dask_worker", *([args.address] if args.address else []),
               "--nthreads", str(args.slots), "--nworkers", "1", "--resources", f"grader={args.slots}",
               "--memory-limit", "0", "--no-dashboard", *_tls_args(args)]
    if args.scheduler_file:
        command += ["--scheduler-file", args.scheduler_file]
    if args.name:
        command += ["--name", args.name]
    return _exec(command, {})


def _exec(module_args, env):
    """Become Dask's command: signals (Ctrl-C, SIGKILL of a test) reach it directly."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", *module_args], {**os.environ, **env})

