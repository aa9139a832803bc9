#!/usr/bin/env bash
# Regenerate docs/img/tensorboard.png: train the default spiral run, serve it with TensorBoard on
# 127.0.0.1, and photograph the Time Series page with headless Chromium.
#   needs: chromium (apt-get install -y chromium), the course venv
#   usage: docs/img/tensorboard_screenshot.sh [PORT]
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT="${1:-6123}"
VENV="${VENV:-.venv}"
WORK="$(mktemp -d)"
cleanup() {
  [[ -n "${SERVER_PID:-}" ]] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$VENV/bin/course-nn" train --logdir "$WORK/runs" --run-name spiral --quiet

# TensorBoard keeps its UI settings in localStorage; close the settings pane by seeding it from a
# throwaway page on the same origin (same host and port), in a private Chromium profile.
mkdir -p "$WORK/seed"
cat > "$WORK/seed/index.html" <<'HTML'
<html><body><script>
localStorage.setItem("_tb_global_settings", JSON.stringify({timeSeriesSettingsPaneOpened: false}));
document.body.textContent = "seeded";
</script></body></html>
HTML
python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$WORK/seed" >/dev/null 2>&1 &
SERVER_PID=$!
sleep 1
chromium --headless --no-sandbox --user-data-dir="$WORK/profile" --dump-dom "http://127.0.0.1:$PORT/" >/dev/null 2>&1
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true

"$VENV/bin/tensorboard" --logdir "$WORK/runs" --host 127.0.0.1 --port "$PORT" --load_fast false >/dev/null 2>&1 &
SERVER_PID=$!
for _ in $(seq 60); do
  curl -sf "http://127.0.0.1:$PORT/data/plugin/scalars/tags" | grep -q "loss/train" && break
  sleep 1
done
# forceSVG: the default WebGL line renderer draws nothing in headless mode
chromium --headless --no-sandbox --user-data-dir="$WORK/profile" --hide-scrollbars --window-size=1300,1000 \
  --virtual-time-budget=15000 --screenshot=docs/img/tensorboard.png \
  "http://127.0.0.1:$PORT/?forceSVG=true&runFilter=spiral&tagFilter=accuracy%2Fval%7Closs%2Ftrain%7Cdecision#timeseries"
echo "wrote docs/img/tensorboard.png"
