#!/usr/bin/env python3
"""Runs packetdrill's TCP scripts against tcpcore and holds the outcomes to a list.

Every script under the snapshot's gtests/net/tcp runs over IPv4 and IPv6 (a
script named *v4.pkt or *v6.pkt over that family only), with the flags
packetdrill's own run_all.py uses, through the adapter (--so_filename), each
in a fresh network namespace. An outcome is pass, fail (with packetdrill's
first error line), unsupported (the adapter's `unsupported:` line: the script
needs something tcpcore does not model) or timeout.

expected_failures.txt lists the scripts that do not pass:
    <dir>/<name>.pkt: <reason>           (both families)
    <dir>/<name>.pkt [ipv6]: <reason>    (that family only)
The run fails when a script not on the list fails, or a listed one passes
(so the list only shrinks). --update-expected rewrites the list from the
outcomes instead, keeping the reasons of lines that still hold.

Needs root (network namespaces) and /dev/net/tun; without them it exits 77,
which ctest reports as skipped.

ctest "conformance: packetdrill" runs it all (ctest -N -V -R conformance shows
the command); some scripts by hand, from the checkout, after a dev build:
    b=build/dev/tests/conformance; tests/conformance/run_packetdrill.py \
        --packetdrill $b/packetdrill/packetdrill --adapter $b/libtcpcore_packetdrill.so \
        --snapshot ../shared/packetdrill --expected tests/conformance/expected_failures.txt \
        --work-dir $b/run-mine -v 'close/*'
Each run's command and output are kept in <work dir>/logs/<dir>/<name>.pkt.<family>.log.
"""

import argparse
import concurrent.futures
import difflib
import fnmatch
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77
FAMILIES = ('ipv4', 'ipv6')

# As gtests/net/packetdrill/run_all.py runs each family (its default
# --send_omit_free included). Its third variant, ipv4-mapped-ipv6, is left
# out: the adapter does not model dual-stack sockets.
COMMON_FLAGS = ['--send_omit_free']
FAMILY_FLAGS = {
    'ipv4': ['--ip_version=ipv4', '--local_ip=192.168.0.1', '--gateway_ip=192.168.0.1',
             '--netmask_ip=255.255.0.0', '--remote_ip=192.0.2.1',
             '-D', 'TFO_COOKIE=3021b9d889017eeb', '-D', 'CODE=host_unreachable',
             '-D', 'CMSG_LEVEL_IP=SOL_IP', '-D', 'CMSG_TYPE_RECVERR=IP_RECVERR'],
    'ipv6': ['--ip_version=ipv6', '--mtu=1520', '--local_ip=fd3d:0a0b:17d6::1',
             '--gateway_ip=fd3d:0a0b:17d6:8888::1', '--remote_ip=fd3d:fa7b:d17d::1',
             '-D', 'TFO_COOKIE=c1d1e9742a47a9bc',
             '-D', 'CMSG_LEVEL_IP=SOL_IPV6', '-D', 'CMSG_TYPE_RECVERR=IPV6_RECVERR'],
}

# Each run gets its own network namespace, so the sysctls a script sets stay
# its own while others run beside it, and a private /tmp, where
# set_sysctls.py writes its restore script (named after packetdrill's pid, so
# a shared /tmp is only untidier: it is kept when the build or the work
# folder lives under /tmp, which a private one would hide). The scripts'
# set-up (common/defaults.sh) puts a qdisc on tun0, which in --so_filename
# mode packetdrill does not create: an unused TUN device stands in for it.
NETNS_SETUP = 'ip link set lo up && ip tuntap add dev tun0 mode tun && exec "$@"'
PRIVATE_TMP = 'mount -t tmpfs tmpfs /tmp && '
private_tmp = True


def under_tmp(path):
    path = os.path.realpath(path)
    return path == '/tmp' or path.startswith('/tmp/')


def in_fresh_netns(command):
    setup = (PRIVATE_TMP if private_tmp else '') + NETNS_SETUP
    return ['unshare', '--net', '--mount', '--', 'sh', '-ec', setup, 'sh'] + command


def environment():
    # sysctl, ip and tc live in sbin, which a non-login PATH may lack.
    env = dict(os.environ)
    path = env.get('PATH', '/usr/bin:/bin').split(':')
    env['PATH'] = ':'.join(path + [d for d in ('/usr/sbin', '/sbin') if d not in path])
    return env


def skip_reason():
    """Why this machine cannot run the scripts, or None."""
    if os.geteuid() != 0:
        return 'not root: each script runs in a network namespace of its own (needs CAP_NET_ADMIN)'
    if not os.path.exists('/dev/net/tun'):
        return '/dev/net/tun does not exist (the scripts set up a TUN device, tun0)'
    env_path = environment()['PATH']
    for tool, package in (('unshare', 'util-linux'), ('ip', 'iproute2'), ('tc', 'iproute2'),
                          ('sysctl', 'procps')):
        if not shutil.which(tool, path=env_path):
            return f'{tool} not found (apt-get install {package})'
    return None


# ---- The scripts' tree ---------------------------------------------------------------------

def prepare_tree(snapshot, tree):
    """A writable copy of gtests/net/{common,tcp}: the scripts run from their
    own folder, source ../common/defaults.sh and may write beside it."""
    if os.path.exists(tree):
        # The copy of a run stopped half-way may still have read-only folders.
        for folder, _, _ in os.walk(tree):
            os.chmod(folder, 0o755)
        shutil.rmtree(tree)
    source = os.path.join(snapshot, 'gtests', 'net')
    for part in ('common', 'tcp'):
        shutil.copytree(os.path.join(source, part), os.path.join(tree, part), symlinks=True)
    for folder, dirs, files in os.walk(tree):
        os.chmod(folder, 0o755)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode | 0o200)
                restore_symlink(path)


def restore_symlink(path):
    """A snapshot may hold a symbolic link as a file whose text is the link's
    target (tcp/common/defaults.sh -> ../../common/defaults.sh): make it a
    link again, or running it runs a path, not a script."""
    if os.path.getsize(path) > 256:
        return
    with open(path, 'rb') as f:
        text = f.read().decode(errors='replace').strip()
    if not text or '\n' in text or ' ' in text or text.startswith('#') or '/' not in text:
        return
    if os.path.isfile(os.path.join(os.path.dirname(path), text)):
        os.remove(path)
        os.symlink(text, path)


def find_scripts(tcp_dir):
    """Every *.pkt under tcp/, as paths relative to it, sorted."""
    scripts = []
    for folder, dirs, files in os.walk(tcp_dir):
        dirs.sort()
        for name in fnmatch.filter(files, '*.pkt'):
            scripts.append(os.path.relpath(os.path.join(folder, name), tcp_dir))
    return sorted(scripts)


def families_of(script):
    # run_all.py's rule: *v4.pkt over IPv4 only, *v6.pkt over IPv6 only.
    if script.endswith('v6.pkt'):
        return ('ipv6',)
    if script.endswith('v4.pkt'):
        return ('ipv4',)
    return FAMILIES


def write_baseline(tree, path, timeout):
    """The sysctls the scripts start from: common/defaults.sh run in a fresh
    namespace, every net.ipv4.tcp_* then read back. The adapter refuses a
    script that moves a knob tcpcore does not model away from these.
    Returns what defaults.sh printed on stderr, which every run prints too."""
    dump = '"$1" >&2 && cd /proc/sys/net/ipv4 && grep -H "" tcp_*'
    defaults = os.path.join(tree, 'common', 'defaults.sh')
    done = subprocess.run(in_fresh_netns(['sh', '-c', dump, 'sh', defaults]), env=environment(),
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        sys.exit(f'conformance: common/defaults.sh failed in a fresh namespace '
                 f'(exit {done.returncode}):\n{done.stderr}')
    # It exits with its last command's status: a sysctl it could not set
    # (e.g. tcp_congestion_control=cubic in a namespace, where Linux allows
    # only the host's tcp_allowed_congestion_control) shows only here.
    for line in done.stderr.splitlines():
        print(f'conformance: note: common/defaults.sh: {line}')
    values = {}
    for line in done.stdout.splitlines():
        name, _, value = line.partition(':')
        values[name] = ' '.join((values.get(name, '') + ' ' + value).split())
    with open(path, 'w') as f:
        for name in sorted(values):
            f.write(f'{name} {values[name]}\n')
    return {line.strip() for line in done.stderr.splitlines()}


# ---- One run ---------------------------------------------------------------------------------

class Result:
    def __init__(self, script, family, outcome, detail, log):
        self.script, self.family = script, family
        self.outcome = outcome  # pass, fail, unsupported or timeout
        self.detail = detail    # the line that says why, for all but pass
        self.log = log


def run_one(args, tree, baseline, noise, logs, script, family):
    folder, name = os.path.split(os.path.join(tree, 'tcp', script))
    # packetdrill hands the shared object nothing but --so_flags: its own
    # address (--local_ip) has to travel there too.
    local_ip = next(f for f in FAMILY_FLAGS[family] if f.startswith('--local_ip=')).partition('=')[2]
    so_flags = f'baseline={baseline},local{family[-1]}={local_ip}'
    command = in_fresh_netns(
        [args.packetdrill] + COMMON_FLAGS + FAMILY_FLAGS[family] +
        [f'--so_filename={args.adapter}', f'--so_flags={so_flags}', name])
    # A session of its own, so a timeout kills packetdrill with its threads
    # and whatever its init commands started.
    # The adapter also stands in for libc's getsockopt() (packetdrill reads
    # tcp_info for its code blocks that way): it is preloaded.
    env = environment()
    env['LD_PRELOAD'] = os.path.abspath(args.adapter)
    process = subprocess.Popen(command, cwd=folder, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               errors='replace', start_new_session=True)
    timed_out = False
    try:
        out, err = process.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()

    log = os.path.join(logs, f'{script}.{family}.log')
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, 'w') as f:
        f.write(f'cwd: {folder}\ncommand: {" ".join(command)}\nexit: {process.returncode}'
                f'{" (timed out)" if timed_out else ""}\n--- stdout\n{out}--- stderr\n{err}')

    outcome, detail = classify(process.returncode, timed_out, out, err, name, args.timeout, noise)
    return Result(script, family, outcome, detail.replace(tree + '/', ''), log)


def classify(returncode, timed_out, out, err, name, timeout, noise):
    if timed_out:
        return 'timeout', f'timeout: no end after {timeout:g} s'
    if returncode == 0:
        return 'pass', ''
    # What the common set-up prints in every run (see write_baseline) is not
    # this script's error.
    lines = [line.strip() for line in err.splitlines() if line.strip() and line.strip() not in noise]
    for line in lines:
        if line.startswith('unsupported: '):
            return 'unsupported', line
    if returncode < 0:
        return 'fail', f'killed by {signal.Signals(-returncode).name}'
    # packetdrill's own errors start with the script's name; before them may
    # come whatever the script's shell commands printed.
    first = (next((l for l in lines if l.startswith(name + ':')), None)
             or next((l for l in lines if 'error' in l.lower()), None)
             or (lines[0] if lines else None)
             or f'exit status {returncode}, nothing on stderr')
    return 'fail', first


# ---- The list of expected failures -----------------------------------------------------------

ENTRY = re.compile(r'^(?P<script>\S+\.pkt)(?:\s+\[(?P<family>ipv4|ipv6)\])?\s*:\s*(?P<reason>.*\S)\s*$')


class Expected:
    """expected_failures.txt: entries keyed by (script, family or None), each
    with its reason, line number and the comment lines just above it."""

    def __init__(self, path):
        self.path = path
        self.header = []   # comments and blank lines before the first entry
        self.trailer = []
        self.entries = {}  # (script, family) -> (reason, line number, comments above)
        if not os.path.exists(path):
            return
        pending = []
        with open(path) as f:
            for number, line in enumerate(f, 1):
                line = line.rstrip('\n')
                if not line.strip() or line.lstrip().startswith('#'):
                    pending.append(line)
                    continue
                match = ENTRY.match(line)
                if not match:
                    sys.exit(f'{path}:{number}: not `<dir>/<name>.pkt [ipv4|ipv6]: <reason>`: {line}')
                key = (match['script'], match['family'])
                if key in self.entries or (match['script'], None) in self.entries or (
                        key[1] is None and any(s == key[0] for s, _ in self.entries)):
                    sys.exit(f'{path}:{number}: {match["script"]} is listed twice')
                if not self.entries:
                    self.header, pending = pending, []
                self.entries[key] = (match['reason'], number, pending)
                pending = []
        if self.entries:
            self.trailer = pending  # comments after the last entry
        else:
            self.header = pending

    def lookup(self, script, family):
        return self.entries.get((script, family)) or self.entries.get((script, None))


def compare(results, expected, scripts, runs):
    """What differs from the list: each a line naming the script and why."""
    problems = []
    for r in results:
        entry = expected.lookup(r.script, r.family)
        where = f'{r.script} [{r.family}]'
        if r.outcome == 'pass' and entry:
            problems.append(f'{where}: passes, but {os.path.basename(expected.path)}:{entry[1]} '
                            f'expects it to fail ({entry[0]}): take it off the list')
        elif r.outcome != 'pass' and not entry:
            problems.append(f'{where}: {r.outcome}, and not on the list: {r.detail}\n'
                            f'    log: {r.log}')
    for (script, family), (reason, number, _) in sorted(expected.entries.items(),
                                                        key=lambda e: e[1][1]):
        if script not in scripts:
            problems.append(f'{os.path.basename(expected.path)}:{number}: {script}: no such script')
        elif family and (script, family) not in runs:
            problems.append(f'{os.path.basename(expected.path)}:{number}: {script} [{family}]: '
                            f'never runs over {family}')
    return problems


def update_expected(expected, results):
    """Rewrites the list from the outcomes: one line for a script that fails in
    every family it runs in for the same reason, else one per family. A
    reason already written for a still-failing run is kept."""
    failing = {}
    for r in results:
        if r.outcome == 'pass':
            continue
        entry = expected.lookup(r.script, r.family)
        if entry:
            reason, comments = entry[0], entry[2]
        elif r.outcome == 'unsupported':
            reason, comments = r.detail, []
        else:
            reason, comments = f'not yet classified: {r.detail}', []
        failing.setdefault(r.script, {})[r.family] = (reason, comments)

    lines = list(expected.header)
    if lines and lines[-1].strip():
        lines.append('')  # the header's comments stand apart from the entries
    for script in sorted(failing):
        by_family = failing[script]
        reasons = {reason for reason, _ in by_family.values()}
        comments = next((c for _, c in by_family.values() if c), [])
        lines += comments
        if set(by_family) == set(families_of(script)) and len(reasons) == 1:
            lines.append(f'{script}: {reasons.pop()}')
        else:
            lines += [f'{script} [{family}]: {by_family[family][0]}' for family in sorted(by_family)]
    lines += expected.trailer
    with open(expected.path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


# ---- The table ------------------------------------------------------------------------------

def table(results, scripts, expected):
    """docs/conformance.md: by folder, what passes. Only what the run decides,
    no times or dates, so an unchanged run writes the same bytes."""
    folders = sorted({os.path.dirname(s) for s in scripts})
    rows, totals = [], [0, {f: [0, 0] for f in FAMILIES}, 0]
    for folder in folders:
        mine = [s for s in scripts if os.path.dirname(s) == folder]
        passed = {f: [0, 0] for f in FAMILIES}  # passed, ran
        for r in results:
            if os.path.dirname(r.script) == folder:
                passed[r.family][1] += 1
                passed[r.family][0] += r.outcome == 'pass'
        listed = len({s for s, _ in expected.entries if s in mine})
        rows.append((folder, len(mine), passed, listed))
        totals[0] += len(mine)
        for f in FAMILIES:
            totals[1][f][0] += passed[f][0]
            totals[1][f][1] += passed[f][1]
        totals[2] += listed

    def fraction(p):
        return f'{p[0]} / {p[1]}' if p[1] else '–'

    out = [
        '# Conformance: Linux\'s packetdrill TCP scripts',
        '',
        '<!-- Generated by tests/conformance/run_packetdrill.py: do not edit by hand.',
        '     `cmake --build <build dir> --target tcpcore_update_conformance` rewrites it;',
        '     ctest "conformance: packetdrill" fails while it disagrees with a run. -->',
        '',
        'packetdrill\'s scripts from the Linux networking tests (`gtests/net/tcp`), run',
        'against tcpcore through `tests/conformance/packetdrill_adapter.cpp`, each over',
        'IPv4 and IPv6 as packetdrill\'s `run_all.py` runs them (a `*v4.pkt` or `*v6.pkt`',
        'script over that family only). Every script that does not pass is listed, with',
        'why, in `tests/conformance/expected_failures.txt`.',
        '',
        '| directory | scripts | passed ipv4 | passed ipv6 | expected to fail |',
        '| --- | ---: | ---: | ---: | ---: |',
    ]
    for folder, count, passed, listed in rows:
        out.append(f'| {folder} | {count} | {fraction(passed["ipv4"])} | '
                   f'{fraction(passed["ipv6"])} | {listed} |')
    out.append(f'| **total** | **{totals[0]}** | **{fraction(totals[1]["ipv4"])}** | '
               f'**{fraction(totals[1]["ipv6"])}** | **{totals[2]}** |')
    out += ['', '| outcome | ipv4 | ipv6 |', '| --- | ---: | ---: |']
    for outcome in ('pass', 'fail', 'unsupported', 'timeout'):
        counts = [sum(r.outcome == outcome and r.family == f for r in results) for f in FAMILIES]
        out.append(f'| {outcome} | {counts[0]} | {counts[1]} |')
    return '\n'.join(out) + '\n'


# ---- Main ------------------------------------------------------------------------------------

def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--packetdrill', required=True, help='the packetdrill binary')
    p.add_argument('--adapter', required=True, help='the adapter (.so) passed as --so_filename')
    p.add_argument('--snapshot', required=True, help="packetdrill's checkout (holds gtests/net)")
    p.add_argument('--expected', required=True, help='expected_failures.txt')
    p.add_argument('--work-dir', help='where the scripts\' copy, the baseline and the logs go '
                   '(default: a new folder in /var/tmp)')
    p.add_argument('--table', help='write the markdown table of outcomes here')
    p.add_argument('--check-table', metavar='FILE',
                   help='fail unless the table written equals FILE (the committed one)')
    p.add_argument('--regenerate-hint', default='run this with --table docs/conformance.md',
                   help='the command that rewrites --check-table\'s file, for the failure message')
    p.add_argument('--update-expected', action='store_true',
                   help='rewrite --expected from the outcomes instead of failing on differences')
    p.add_argument('-j', '--jobs', type=int, default=2)
    p.add_argument('--timeout', type=float, default=60, help='seconds per script (wall clock)')
    p.add_argument('--family', choices=FAMILIES, help='run one family only')
    p.add_argument('-v', '--verbose', action='store_true', help='print every outcome')
    p.add_argument('only', nargs='*', metavar='PATTERN',
                   help='run only scripts matching these patterns (e.g. close/*)')
    args = p.parse_args()
    if (args.only or args.family) and (args.table or args.check_table or args.update_expected):
        p.error('--table, --check-table and --update-expected need a full run')
    if args.check_table and not args.table:
        p.error('--check-table compares the file --table writes: give both')
    args.packetdrill = os.path.abspath(args.packetdrill)
    args.adapter = os.path.abspath(args.adapter)
    return args


def main():
    args = parse_args()
    reason = skip_reason()
    if reason:
        print(f'conformance: skipped: {reason}')
        return SKIP
    started = time.monotonic()
    expected = Expected(args.expected)  # a malformed list stops the run before it starts

    work = os.path.realpath(args.work_dir or tempfile.mkdtemp(prefix='tcpcore-packetdrill-', dir='/var/tmp'))
    global private_tmp
    private_tmp = not any(under_tmp(p) for p in (work, args.packetdrill, args.adapter, args.snapshot))
    tree, logs = os.path.join(work, 'tree'), os.path.join(work, 'logs')
    baseline = os.path.join(work, 'baseline.txt')
    os.makedirs(work, exist_ok=True)
    if os.path.exists(logs):
        shutil.rmtree(logs)
    prepare_tree(args.snapshot, tree)
    noise = write_baseline(tree, baseline, args.timeout)

    scripts = find_scripts(os.path.join(tree, 'tcp'))
    runs = [(s, f) for s in scripts for f in families_of(s)
            if (not args.only or any(fnmatch.fnmatch(s, p) for p in args.only))
            and (not args.family or f == args.family)]
    if not runs:
        sys.exit('conformance: no script matches')

    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_one, args, tree, baseline, noise, logs, s, f) for s, f in runs]
        for future in concurrent.futures.as_completed(futures):
            r = future.result()
            results.append(r)
            if args.verbose:
                print(f'{r.outcome:11} {r.script} [{r.family}] {r.detail}', flush=True)
    results.sort(key=lambda r: (r.script, r.family))

    counts = {o: sum(r.outcome == o for r in results) for o in ('pass', 'fail', 'unsupported', 'timeout')}
    print(f'conformance: {len(results)} runs of {len({s for s, _ in runs})} scripts in '
          f'{time.monotonic() - started:.0f} s: ' + ', '.join(f'{n} {o}' for o, n in counts.items()) +
          f'; logs in {logs}')

    status = 0
    if args.update_expected:
        update_expected(expected, results)
        print(f'conformance: rewrote {args.expected} from these outcomes')
        expected = Expected(args.expected)
    else:
        if args.only or args.family:
            # A partial run judges only the entries it ran.
            in_run = {s for s, _ in runs}
            expected.entries = {k: v for k, v in expected.entries.items()
                                if k[0] in in_run and (k[1] is None or k in set(runs))}
        problems = compare(results, expected, set(scripts), set(runs))
        if problems:
            status = 1
            print(f'conformance: FAILED: {len(problems)} outcomes differ from {args.expected}:')
            for line in problems:
                print(f'  {line}')
            print('  (a script that newly fails needs fixing or a line with the reason; '
                  'one that passes comes off the list; --update-expected rewrites the list)')
        else:
            print(f'conformance: every outcome is as {os.path.basename(args.expected)} expects')

    if args.table:
        text = table(results, scripts, expected)
        with open(args.table, 'w') as f:
            f.write(text)
        if args.check_table:
            committed = open(args.check_table).read() if os.path.exists(args.check_table) else ''
            if committed != text:
                status = 1
                print(f'conformance: FAILED: {args.check_table} is not what this run gives '
                      f'({args.table}); regenerate it with:\n  {args.regenerate_hint}')
                sys.stdout.writelines(difflib.unified_diff(
                    committed.splitlines(True), text.splitlines(True),
                    args.check_table, args.table, n=0))
    return status


if __name__ == '__main__':
    sys.exit(main())
