// Timeline recorder and its HTML page (timeline.h).
#include "smemu/scenarios/timeline.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <string_view>
#include <tuple>

#include "smemu/model/store.h"

namespace smemu::scenarios {
namespace {

// --- recording --------------------------------------------------------------------------------

std::string value_text(const model::SecretValue& value, bool show_values) {
  switch (value.kind) {
    case model::ValueKind::kNone: return "(no value)";
    case model::ValueKind::kString: return show_values ? value.bytes : "****";
    case model::ValueKind::kBinary:
      return show_values ? "(binary, " + std::to_string(value.bytes.size()) + " bytes)" : "****";
  }
  return "";
}

std::string rotation_text(const model::RotationRun& run) {
  std::string text = std::string(model::step_name(run.step)) + ", attempt " + std::to_string(run.attempt);
  switch (run.phase) {
    case model::RotationRun::Phase::kReady: return text + ", due " + iso8601(run.due);
    case model::RotationRun::Phase::kRunning: return text + ", running";
    case model::RotationRun::Phase::kRetry: return text + ", re-attempt at " + iso8601(run.due);
    case model::RotationRun::Phase::kStuck: return text + ", stuck";
  }
  return text;
}

TimelineSecret snapshot(const model::Store& naming, const model::Secret& secret, bool show_values) {
  TimelineSecret out;
  out.arn = naming.arn(secret);
  out.name = secret.meta.name;
  out.created = secret.meta.created;
  out.marked_for_deletion = secret.meta.marked_for_deletion();
  for (const auto& version : secret.versions()) {
    out.versions.push_back(
        {version.id, secret.labels_of(version), version.created, value_text(version.value, show_values)});
  }
  if (const auto& run = secret.run()) {
    out.rotation_token = run->token;
    out.rotation = rotation_text(*run);
  }
  return out;
}

// Why the events say the step failed: the first rotation failure among them.
std::optional<std::string> failure_event(const std::vector<Event>& events) {
  for (const auto& event : events) {
    if (event.kind != EventKind::kServiceEvent) continue;
    if (event.name == "RotationFailed" || event.name == "TestRotationFailed" || event.name == "RotationAbandoned") {
      return std::string(event.name) + (event.message.empty() ? "" : ": " + event.message);
    }
  }
  return std::nullopt;
}

// --- the page ---------------------------------------------------------------------------------

// Text and attribute values alike: nothing in them can open a tag or end an attribute.
std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string_view kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::kApiCall: return "api-call";
    case EventKind::kServiceEvent: return "service-event";
    case EventKind::kLabelUpdated: return "label-updated";
  }
  return "";
}

// One secret across the whole timeline: its versions in creation order (every version any step
// saw) and, per step, its state then (nullptr where it did not exist).
struct SecretLanes {
  std::string arn;
  std::string name;
  std::vector<std::string> versions;
  std::vector<const TimelineSecret*> at;  // indexed like Timeline::steps
};

std::vector<SecretLanes> lanes_of(const Timeline& timeline) {
  std::vector<SecretLanes> secrets;
  std::map<std::string, std::size_t, std::less<>> by_arn;
  for (std::size_t s = 0; s < timeline.steps.size(); ++s) {
    for (const auto& secret : timeline.steps[s].secrets) {
      auto [it, added] = by_arn.try_emplace(secret.arn, secrets.size());
      if (added) {
        secrets.push_back({secret.arn, secret.name, {}, std::vector<const TimelineSecret*>(timeline.steps.size())});
      }
      SecretLanes& lanes = secrets[it->second];
      lanes.at[s] = &secret;
      // A new version is newer than every version seen before it: appending keeps creation order.
      for (const auto& version : secret.versions) {
        if (std::find(lanes.versions.begin(), lanes.versions.end(), version.id) == lanes.versions.end()) {
          lanes.versions.push_back(version.id);
        }
      }
    }
  }
  return secrets;
}

const TimelineVersion* find_version(const TimelineSecret* secret, std::string_view id) {
  if (!secret) return nullptr;
  for (const auto& version : secret->versions) {
    if (version.id == id) return &version;
  }
  return nullptr;
}

bool holds(const TimelineVersion* version, std::string_view label) {
  return version && std::find(version->labels.begin(), version->labels.end(), label) != version->labels.end();
}

std::string step_attributes(const TimelineStep& step) {
  std::string text = " data-step=\"" + std::to_string(step.index) + "\"";
  if (step.failed) text += " data-failed=\"true\"";
  if (step.unmet) text += " data-unmet=\"true\"";
  return text;
}

std::string step_title(const TimelineStep& step) {
  std::string text = step.index == 0 ? std::string("setup") : "step " + std::to_string(step.index);
  text += ": " + step.description;
  if (step.failed) text += "\nfailed: " + *step.failed;
  if (step.unmet) text += "\nunmet: " + *step.unmet;
  return text;
}

constexpr std::string_view kStyle = R"css(
:root { --current: #1b7f3b; --pending: #b26a00; --previous: #3d5a8a; --custom: #7a3d8a; --bad: #b3261e; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d1d1f; background: #fafafa; }
h1 { font-size: 1.4em; margin: 0 0 .2em; } h2 { font-size: 1.15em; margin: 1.2em 0 .2em; }
.muted, .arn { color: #666; font-size: .85em; } .arn { font-family: monospace; word-break: break-all; }
.controls { position: sticky; top: 0; background: #fafafa; padding: .4em 0; z-index: 2; border-bottom: 1px solid #ddd; }
.controls button { font: inherit; } #slider { width: 40%; vertical-align: middle; }
.scroll { overflow-x: auto; border: 1px solid #ddd; background: #fff; }
.row { display: grid; grid-template-columns: 17em repeat(var(--steps), minmax(7.5em, 1fr)); }
.row > div { border-right: 1px solid #eee; border-bottom: 1px solid #eee; padding: .3em; min-height: 2.2em; }
.head > div { background: #f0f0f0; font-size: .8em; cursor: pointer; overflow: hidden; overflow-wrap: anywhere;
  max-height: 6.5em; }
.head > div[data-failed="true"], .head > div[data-unmet="true"] { background: #fbe3e1; color: var(--bad); }
.lanehead { font-family: monospace; font-size: .8em; word-break: break-all; }
.cell[data-present="false"] { background: repeating-linear-gradient(45deg, #f6f6f6, #f6f6f6 4px, #fff 4px, #fff 8px); }
.sel { outline: 2px solid #2563eb; outline-offset: -2px; }
.label { display: inline-block; color: #fff; border-radius: 3px; padding: 0 .35em; margin: 1px; font-size: .75em;
  font-weight: 600; background: var(--custom); }
.label[data-label="AWSCURRENT"] { background: var(--current); }
.label[data-label="AWSPENDING"] { background: var(--pending); }
.label[data-label="AWSPREVIOUS"] { background: var(--previous); }
.label[data-moved="true"] { box-shadow: 0 0 0 2px #ffd54a; }
.value { display: block; font-family: monospace; font-size: .7em; color: #555; word-break: break-all; }
.rotation { font-size: .75em; color: var(--pending); }
ol.steps { padding-left: 0; list-style: none; }
li.step { padding: .4em .6em; border-left: 4px solid #ccc; margin: .3em 0; background: #fff; }
li.step[data-failed="true"], li.step[data-unmet="true"] { border-left-color: var(--bad); }
li.step.sel { outline: 2px solid #2563eb; } .why { color: var(--bad); }
ul.events { margin: .2em 0 0; padding-left: 1.2em; font-size: .85em; }
li.event[data-kind="api-call"] { color: #555; } li.event[data-kind="label-updated"] { color: var(--previous); }
li.event[data-kind="service-event"] { font-weight: 600; }
)css";

// Highlights one step (slider, buttons, arrow keys, clicking a column head or a step); the
// labels' positions are in the markup already.
constexpr std::string_view kScript = R"js(
(function () {
  var slider = document.getElementById('slider');
  var shown = document.getElementById('shown');
  function select(n) {
    slider.value = n;
    document.querySelectorAll('.sel').forEach(function (e) { e.classList.remove('sel'); });
    var at = '[data-step="' + n + '"]';
    document.querySelectorAll('.head > div' + at + ', .cell' + at + ', li.step' + at)
      .forEach(function (e) { e.classList.add('sel'); });
    var item = document.querySelector('li.step[data-step="' + n + '"]');
    shown.textContent = item ? item.getAttribute('data-title') : '';
  }
  function move(by) { select(Math.max(0, Math.min(Number(slider.max), Number(slider.value) + by))); }
  slider.addEventListener('input', function () { select(Number(slider.value)); });
  document.getElementById('prev').addEventListener('click', function () { move(-1); });
  document.getElementById('next').addEventListener('click', function () { move(1); });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'ArrowLeft') move(-1);
    if (e.key === 'ArrowRight') move(1);
  });
  document.querySelectorAll('.head > div[data-step], li.step').forEach(function (e) {
    e.addEventListener('click', function () { select(Number(e.getAttribute('data-step'))); });
  });
  select(0);
})();
)js";

void render_secret(std::string& out, const Timeline& timeline, const SecretLanes& secret) {
  const std::string name = escape(secret.name);
  out += "<section class=\"secret\" data-secret=\"" + name + "\" data-arn=\"" + escape(secret.arn) + "\">\n";
  out += "<h2>" + name + "</h2>\n<div class=\"arn\">" + escape(secret.arn) + "</div>\n";
  out += "<div class=\"scroll\">\n<div class=\"row head\" style=\"--steps: " + std::to_string(timeline.steps.size()) +
         "\"><div>version \\ step</div>";
  for (const auto& step : timeline.steps) {
    out += "<div" + step_attributes(step) + " title=\"" + escape(step_title(step)) + "\"><b>" +
           (step.index == 0 ? std::string("setup") : std::to_string(step.index)) + "</b>" +
           (step.failed || step.unmet ? " &#10007;" : "") + "<br>" + escape(step.description) + "</div>";
  }
  out += "</div>\n";
  for (std::size_t v = 0; v < secret.versions.size(); ++v) {
    const std::string id = escape(secret.versions[v]);
    const TimelineVersion* first = nullptr;
    for (const auto* state : secret.at) {
      if ((first = find_version(state, secret.versions[v]))) break;
    }
    out += "<div class=\"row lane\" data-secret=\"" + name + "\" data-version=\"" + id + "\" data-order=\"" +
           std::to_string(v + 1) + "\" style=\"--steps: " + std::to_string(timeline.steps.size()) + "\">";
    out += "<div class=\"lanehead\">#" + std::to_string(v + 1) + " " + id + "<span class=\"muted\"><br>created " +
           (first ? iso8601(first->created) : std::string()) + "</span></div>";
    const TimelineVersion* before = nullptr;
    for (std::size_t s = 0; s < timeline.steps.size(); ++s) {
      const std::string step = std::to_string(timeline.steps[s].index);
      const TimelineVersion* version = find_version(secret.at[s], secret.versions[v]);
      out += "<div class=\"cell\" data-step=\"" + step + "\" data-version=\"" + id + "\" data-present=\"" +
             (version ? "true" : "false") + "\">";
      if (version) {
        for (const auto& label : version->labels) {
          // Moved: the label was elsewhere (or nowhere) the step before.
          const bool moved = s > 0 && !holds(find_version(secret.at[s - 1], secret.versions[v]), label);
          out += "<span class=\"label\" data-label=\"" + escape(label) + "\" data-step=\"" + step +
                 "\" data-version=\"" + id + "\"" + (moved ? " data-moved=\"true\"" : "") + ">" + escape(label) +
                 "</span>";
        }
        // The value where it first shows or changes (a rotation's version gets one in createSecret).
        if (!before || before->value != version->value) {
          out += "<span class=\"value\" data-step=\"" + step + "\" data-version=\"" + id + "\">" +
                 escape(version->value) + "</span>";
        }
      }
      out += "</div>";
      before = version;
    }
    out += "</div>\n";
  }
  // The rotation in flight, under the lanes.
  out += "<div class=\"row\" style=\"--steps: " + std::to_string(timeline.steps.size()) +
         "\"><div class=\"muted\">rotation in flight</div>";
  for (std::size_t s = 0; s < timeline.steps.size(); ++s) {
    const auto* state = secret.at[s];
    out += "<div class=\"rotation\" data-step=\"" + std::to_string(timeline.steps[s].index) + "\"";
    if (state && !state->rotation_token.empty()) out += " title=\"token " + escape(state->rotation_token) + "\"";
    out += ">";
    if (!state) {
      out += "(no secret)";
    } else {
      if (state->marked_for_deletion) out += "(marked for deletion) ";
      out += escape(state->rotation);
    }
    out += "</div>";
  }
  out += "</div>\n</div>\n</section>\n";
}

std::string event_text(const Event& event, const std::map<std::string, std::string, std::less<>>& names) {
  std::string text = iso8601(event.time) + " " + std::string(event.name);
  const auto name = names.find(event.secret_arn);
  if (!event.secret_arn.empty()) text += " " + (name != names.end() ? name->second : event.secret_arn);
  if (!event.version_id.empty()) text += " version " + event.version_id;
  if (!event.labels.empty()) {
    text += " [";
    for (std::size_t i = 0; i < event.labels.size(); ++i) text += (i ? "," : "") + event.labels[i];
    text += "]";
  }
  if (!event.step.empty()) text += " " + event.step;
  if (event.attempt > 0) text += " attempt " + std::to_string(event.attempt);
  if (event.error) text += " " + std::string(aws_name(*event.error));
  if (!event.message.empty()) text += ": " + event.message;
  return text;
}

void render_steps(std::string& out, const Timeline& timeline) {
  std::map<std::string, std::string, std::less<>> names;  // ARN -> name, for the event lines
  for (const auto& step : timeline.steps) {
    for (const auto& secret : step.secrets) names.emplace(secret.arn, secret.name);
  }
  out += "<h2>Steps and events</h2>\n<ol class=\"steps\">\n";
  for (const auto& step : timeline.steps) {
    out += "<li class=\"step\"" + step_attributes(step) + " data-title=\"" + escape(step_title(step)) + "\"><b>" +
           (step.index == 0 ? std::string("setup") : "step " + std::to_string(step.index)) + "</b>: " +
           escape(step.description) + " <span class=\"muted\">(clock " + iso8601(step.time) + ")</span>";
    if (!step.note.empty()) out += "<div class=\"muted\">" + escape(step.note) + "</div>";
    if (step.failed) out += "<div class=\"why\">failed: " + escape(*step.failed) + "</div>";
    if (step.unmet) out += "<div class=\"why\">unmet: " + escape(*step.unmet) + "</div>";
    if (!step.events.empty()) {
      out += "<ul class=\"events\">";
      for (const auto& event : step.events) {
        out += "<li class=\"event\" data-step=\"" + std::to_string(step.index) + "\" data-name=\"" +
               escape(event.name) + "\" data-kind=\"" + std::string(kind_name(event.kind)) + "\">" +
               escape(event_text(event, names)) + "</li>";
      }
      out += "</ul>";
    }
    out += "</li>\n";
  }
  out += "</ol>\n";
}

}  // namespace

// --- the recorder -------------------------------------------------------------------------------

TimelineRecorder::TimelineRecorder(Service& service, std::string region, std::string title, std::string description,
                                   bool show_values)
    : service_(service), region_(std::move(region)) {
  timeline_.title = std::move(title);
  timeline_.description = std::move(description);
  timeline_.values_shown = show_values;
}

TimelineRecorder::TimelineRecorder(Runner& runner, std::string title, std::string description, bool show_values)
    : TimelineRecorder(runner.service(), runner.region(), std::move(title), std::move(description), show_values) {}

void TimelineRecorder::record(TimelineStep step) {
  step.events = service_.events().read(last_sequence_);
  if (!step.events.empty()) last_sequence_ = step.events.back().sequence;
  step.time = service_.clock().now();
  step.secrets.clear();
  // An empty store, for the model's ARN formula with the service's partition and account.
  const model::Store naming(service_.options().partition, service_.options().account);
  service_.inspect_all(region_, [&](const model::Secret& secret) {
    step.secrets.push_back(snapshot(naming, secret, timeline_.values_shown));
  });
  // inspect_all's order is the store's; the page wants a stable one.
  std::sort(step.secrets.begin(), step.secrets.end(), [](const TimelineSecret& a, const TimelineSecret& b) {
    return std::tie(a.created, a.arn) < std::tie(b.created, b.arn);
  });
  timeline_.steps.push_back(std::move(step));
}

void TimelineRecorder::record(const Step& step, std::size_t index, const StepOutcome& outcome) {
  TimelineStep recorded;
  recorded.index = index;
  recorded.description = describe(step);
  recorded.note = step.note;
  if (outcome.response && !outcome.response->ok()) {
    const Error& error = outcome.response->error();
    recorded.failed = std::string(error.name()) + ": " + error.message;
  } else if (outcome.rotation && outcome.rotation->outcome != model::Outcome::kOk) {
    const StepReport& report = *outcome.rotation;
    recorded.failed = std::string(model::step_name(report.step)) + " attempt " + std::to_string(report.attempt) +
                      ": " + std::string(model::outcome_name(report.outcome)) +
                      (report.message.empty() ? "" : " (" + report.message + ")");
  }
  if (outcome.failure) recorded.unmet = outcome.failure->message;
  record(std::move(recorded));
  // An advance or run_until_idle fails through the rotation steps it ran.
  TimelineStep& last = timeline_.steps.back();
  if (!last.failed) last.failed = failure_event(last.events);
}

void TimelineRecorder::record_setup(const std::optional<Failure>& setup_failure) {
  TimelineStep setup;
  setup.description = "the setup's secrets created";
  if (setup_failure) setup.unmet = setup_failure->message;
  record(std::move(setup));
}

std::string render_timeline_html(const Timeline& timeline) {
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  // Nothing may be fetched: the page is one file, and the policy makes sure of it.
  out += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
         "script-src 'unsafe-inline'\">\n";
  out += "<title>" + escape(timeline.title) + " - smemu timeline</title>\n<style>" + std::string(kStyle) +
         "</style>\n</head>\n<body>\n";
  out += "<h1>" + escape(timeline.title) + "</h1>\n";
  if (!timeline.description.empty()) out += "<p>" + escape(timeline.description) + "</p>\n";
  out += std::string("<p class=\"muted\" data-values=\"") + (timeline.values_shown ? "shown" : "masked") + "\">" +
         (timeline.values_shown ? "Secret values are SHOWN (--show-secrets)."
                                : "Secret values are masked as ****; --show-secrets shows them.") +
         " A lane per version, a column per step; each label stands in the lane of the version holding it after "
         "that step (outlined where it just moved). Failed steps are marked &#10007;.</p>\n";
  const std::size_t last = timeline.steps.empty() ? 0 : timeline.steps.size() - 1;
  out += "<div class=\"controls\"><button id=\"prev\" type=\"button\">&#9664;</button> <input id=\"slider\" "
         "type=\"range\" min=\"0\" max=\"" + std::to_string(last) + "\" value=\"0\"> <button id=\"next\" "
         "type=\"button\">&#9654;</button> <span id=\"shown\"></span></div>\n";
  for (const auto& secret : lanes_of(timeline)) render_secret(out, timeline, secret);
  render_steps(out, timeline);
  out += "<script>" + std::string(kScript) + "</script>\n</body>\n</html>\n";
  return out;
}

Status write_timeline_html(const Timeline& timeline, const std::string& path) {
  const std::string page = render_timeline_html(timeline);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(ErrorCode::InvalidParameter, path + ": cannot write the file");
  // O_CREAT's mode applies only to a new file; one that existed is narrowed to 0600 as well.
  bool ok = ::fchmod(fd, 0600) == 0;
  for (std::size_t written = 0; ok && written < page.size();) {
    const ssize_t n = ::write(fd, page.data() + written, page.size() - written);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) written += static_cast<std::size_t>(n);
  }
  ok = ::close(fd) == 0 && ok;
  if (!ok) return make_error(ErrorCode::InvalidParameter, path + ": cannot write the file");
  return ok_status();
}

}  // namespace smemu::scenarios
