#!/bin/bash
# SPDX-License-Identifier: MIT
#
# userspace/tools/bench-plot.sh [DIR] - the ratio tables of `make bench` as
# one machine-readable table and one picture.  Reads what bench.sh leaves
# in DIR (default build/bench): nop-<kver>.txt (bench-nop) and
# event-<kver>.txt (bench-event), and writes
#
#   DIR/ratios.tsv   one row per ratio: section, measure, then one column
#                    per kernel (tab-separated, "-" where a run is missing)
#   DIR/ratios.svg   the same as bars, one colour per kernel, throughput
#                    (higher is better) beside latency (lower is better),
#                    with the parity line at 1.0 (gnuplot)
#
# Every ratio is redox_uring's figure over the baseline's, both measured in
# the same guest boot.  Without gnuplot the table is still written and the
# picture is skipped with a note: a plot never fails the benchmark.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$top/build/bench}
cd "$dir"

kernels=$(for f in nop-*.txt event-*.txt; do [ -e "$f" ] && echo "$f"; done |
	sed -E 's/^(nop|event)-(.*)\.txt$/\2/' | sort -uV)
if [ -z "$kernels" ]; then
	echo "bench-plot: no nop-*.txt or event-*.txt in $dir" >&2
	exit 1
fi

# ratios KVER: "section<TAB>measure<TAB>ratio" lines for one kernel.
ratios() {
	local k=$1
	[ -r "nop-$k.txt" ] && awk '
		/^batch +rxu ops\/s/ { t = 1; next }
		t && $1 ~ /^[0-9]+$/ && NF == 4 {
			printf "throughput\tNOP batch %s / io_uring\t%s\n", $1, $4
		}' "nop-$k.txt"
	[ -r "event-$k.txt" ] && awk '
		# Which latency section: the writer on the consumer'"'"'s CPU or not.
		/^# latency: .*writer thread on CPU 0/ { where = "same vCPU"; next }
		/^# latency: / { where = "other vCPU"; next }
		/^ratio (latency|throughput):/ {
			sec = $2; sub(":", "", sec)
			for (i = 3; i <= NF; i++) {
				if ($i !~ /^rxu\//)
					continue
				base = substr($i, 5)
				v = $(i + 1)
				if (v == "n/a")
					continue
				if (sec == "latency")
					printf "latency\tlatency, %s / %s\t%s\n", where, base, v
				else
					printf "throughput\tevents/s / %s\t%s\n", base, v
			}
		}' "event-$k.txt"
	return 0
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for k in $kernels; do
	ratios "$k" >"$tmp/$k"
done

# Join on (section, measure), in the order the first kernel printed them.
{
	printf 'section\tmeasure'
	for k in $kernels; do printf '\t%s' "$k"; done
	printf '\n'
	cat "$tmp"/* | cut -f1,2 | awk '!seen[$0]++' | while IFS=$'\t' read -r sec m; do
		printf '%s\t%s' "$sec" "$m"
		for k in $kernels; do
			v=$(awk -F'\t' -v s="$sec" -v m="$m" '$1 == s && $2 == m { print $3; exit }' "$tmp/$k")
			printf '\t%s' "${v:--}"
		done
		printf '\n'
	done
} >ratios.tsv
echo "bench-plot: $dir/ratios.tsv"

if ! command -v gnuplot >/dev/null; then
	echo "bench-plot: gnuplot not installed (apt-get install gnuplot-nox): no ratios.svg"
	exit 0
fi
for sec in throughput latency; do
	{ head -n 1 ratios.tsv | cut -f2-; awk -F'\t' -v s="$sec" '$1 == s' ratios.tsv | cut -f2-; } \
		>"$tmp/$sec.tsv"
done
ncol=$(($(echo "$kernels" | wc -w) + 1))
when=$(date -u +%Y-%m-%d)
# The module the figures belong to: the last commit of module/ and uapi/.
commit=$(git -C "$top" log -1 --format=%h -- module uapi 2>/dev/null)
[ -n "$(git -C "$top" status --porcelain -- module uapi 2>/dev/null)" ] &&
	commit="$commit+changes"
gnuplot <<EOF
set terminal svg size 1000,520 dynamic noenhanced font "sans,11" background "white"
set output "ratios.svg"
set datafile separator "\t"
set datafile missing "-"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set key top center horizontal
set offsets 0, 0, 0.35, 0
set bmargin 9
set grid ytics
set yrange [0:*]
set xtics rotate by -30 left font ",10" nomirror
set ytics nomirror
set multiplot layout 1,2 title "make bench, $when, module at ${commit:-unknown}: redox_uring / baseline, same guest boot (QEMU TCG)"
set title "throughput ratio (higher is better)"
plot for [i=2:$ncol] "$tmp/throughput.tsv" using i:xtic(1) title columnheader(i), \
	1 with lines dashtype 2 linecolor "black" title "parity"
set title "latency ratio (lower is better)"
plot for [i=2:$ncol] "$tmp/latency.tsv" using i:xtic(1) title columnheader(i), \
	1 with lines dashtype 2 linecolor "black" title "parity"
unset multiplot
EOF
echo "bench-plot: $dir/ratios.svg"
