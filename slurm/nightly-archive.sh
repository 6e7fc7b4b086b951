#!/usr/bin/env bash
# Nightly archive re-encoding: submits every file that arrived in INBOX since the last
# run as one Slurm job array on a pipeline, with output names derived from the input
# names by the job template's {name}/{ext}/{dir} patterns. Run it from cron, e.g.
#   0 1 * * *  /usr/local/share/gopcast/slurm/nightly-archive.sh /archive/incoming /archive/h265-job.toml archive
# Each run prints the batch id; `gopcast jobs list --batch ID` follows it. The marker
# of the last run moves only when the submission succeeded, so a failed night is
# picked up by the next one.
set -euo pipefail

usage="usage: nightly-archive.sh INBOX JOB_TEMPLATE.toml [PIPELINE] (env: GOPCAST, GOPCAST_HOME, PRIORITY)"
inbox=${1:?$usage}
template=${2:?$usage}
pipeline=${3:-archive}
gopcast=${GOPCAST:-gopcast}
priority=${PRIORITY:-3}
state="${GOPCAST_HOME:-$HOME/.gopcast}/nightly/$pipeline"
mkdir -p "$state"

[ -d "$inbox" ] || { echo "nightly-archive: $inbox: no such folder" >&2; exit 3; }
stamp=$(date -u +%Y%m%dT%H%M%SZ)
list="$state/$stamp.list"
next_marker="$state/.marker-$stamp"
touch "$next_marker"   # files arriving while we list are picked up tomorrow

newer=()
[ -e "$state/last-run" ] && newer=(-newer "$state/last-run")
: > "$list"
skipped=0
while IFS= read -r -d '' f; do
  # A list file holds one path per line: a name with a newline cannot be listed.
  if [[ "$f" == *$'\n'* ]]; then
    echo "nightly-archive: skipping a file whose name holds a newline: ${f//$'\n'/\\n}" >&2
    skipped=$((skipped + 1))
    continue
  fi
  printf '%s\n' "$f" >> "$list"
done < <(find "$inbox" -type f ! -name '.*' "${newer[@]}" ! -newer "$next_marker" -print0 | sort -z)

count=$(wc -l < "$list")
if [ "$count" -eq 0 ]; then
  echo "nightly-archive: nothing new in $inbox"
  rm -f "$list" "$next_marker"
  exit 0
fi
"$gopcast" submit --batch "$list" "$template" --pipeline "$pipeline" --priority "$priority" \
  --user-data "nightly $stamp"
mv -f "$next_marker" "$state/last-run"
echo "nightly-archive: submitted $count files ($skipped skipped) from $inbox"
