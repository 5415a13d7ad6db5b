#!/usr/bin/env bash
# Every figure a reader's model card reports, for a 256-token-window reader (the e5 reader; docs/training.md):
#   eval/evaluate_reader.sh MODEL_DIR OUT_DIR [extra kgqa overrides, e.g. reader.calibration_file=…]
# kgqa eval on the independent dev and test notes (eval/; report.json each, plus hand-written/CodiEsp subsets),
# XQuAD en/es/el/ro and PoQuAD (first 200 questions each, best span), false answers on 30 + 30 CodiEsp dev cases
# about other diseases. Reads ../shared/data for the last two; run from the repository root.
set -uo pipefail
M=${1:?usage: eval/evaluate_reader.sh MODEL_DIR OUT_DIR [overrides…]}
O=${2:?usage: eval/evaluate_reader.sh MODEL_DIR OUT_DIR [overrides…]}
shift 2
PY=${PY:-.venv/bin/python}
KGQA=${KGQA:-.venv/bin/kgqa}
WINDOW="reader.window.max_seq_length=256 reader.window.doc_stride=96 reader.window.max_question_length=48"
SCRIPT_WINDOW="--max-seq-length 256 --doc-stride 96 --max-question-length 48"
mkdir -p "$O"
for s in ${SPLITS:-dev test}; do
  $KGQA eval eval/independent.$s.gold.jsonl --out "$O/independent-$s" model=local model.path="$M" $WINDOW "$@" \
    > "$O/independent-$s.log" 2>&1 || { echo "kgqa eval ($s) failed: $O/independent-$s.log" >&2; exit 1; }
  $PY eval/subset_scores.py eval/independent.$s.gold.jsonl "$O/independent-$s" > "$O/independent-$s.subsets.json"
  echo "independent $s: $(tail -1 "$O/independent-$s.log")"
  echo "  subsets: $(cat "$O/independent-$s.subsets.json")"
done
[ "${SKIP_SHARED:-}" = 1 ] && exit 0
$PY scripts/squad_scores.py "$M" ../shared/data/xquad/xquad.{en,es,el,ro}.json --limit 200 $SCRIPT_WINDOW \
  > "$O/squad.json" 2> "$O/squad.log"
$PY scripts/squad_scores.py "$M" ../shared/data/poquad/poquad_dev.json --lang pl --limit 200 $SCRIPT_WINDOW \
  > "$O/poquad.json" 2>> "$O/squad.log"
echo "squad: $(tail -1 "$O/squad.json")"; echo "poquad: $(tail -1 "$O/poquad.json")"
C=thrombolysis,thrombectomy,ivt_drug,ivt_drug_dose,bolus_timestamp,door_to_needle,puncture_timestamp,prestroke_mrs,nihss_score,discharge_mrs,discharge_nihss_score,stroke_type,risk_previous_stroke,gcs_score
X="ictus|cerebrovascular|cerebral|trombol|fibrinol|trombectom|alteplas|tenecteplas|NIHSS|Rankin|Glasgow|GCS|hemipar|hemipl|afasia|stroke|thrombol|thrombect|aphasi|ACV\\b|AIT\\b|TIA\\b|carótid|carotid|apoplej"
for l in es en; do
  d=text_files; [ "$l" = en ] && d=text_files_en
  $PY scripts/out_of_scope_answers.py "$M" ../shared/data/codiesp/dev/$d --lang $l --limit 30 $SCRIPT_WINDOW \
    --concepts $C --exclude "$X" > "$O/oos-$l.json" 2>> "$O/oos.log"
  echo "out of scope ($l): $(tail -1 "$O/oos-$l.json")"
done
