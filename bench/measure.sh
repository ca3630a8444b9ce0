# Timing helpers the benchmark scripts source (they set OUT, the folder for
# the last command's output, before using them).

measure() { # command... → "seconds peak_kb"; the command's output goes to $OUT/last.out, its errors to $OUT/last.err
  /usr/bin/time -f "%e %M" -o "$OUT/time.txt" "$@" >"$OUT/last.out" 2>"$OUT/last.err" \
    || { cat "$OUT/last.err" >&2; return 1; }
  cat "$OUT/time.txt"
}
best_of_3() { # reset-command command... → best "seconds" and highest "peak_kb" of 3 runs (reset before each)
  local reset="$1" best="" kb=0 s k
  shift
  for _ in 1 2 3; do
    eval "$reset"
    read -r s k < <(measure "$@")
    best=$(awk -v a="$s" -v b="${best:-$s}" 'BEGIN { print (a < b) ? a : b }')
    kb=$(( k > kb ? k : kb ))
  done
  echo "$best $kb"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
