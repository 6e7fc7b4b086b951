#include "slurm/pipeline.hpp"

#include <cstdlib>
#include <regex>

#include "core/error.hpp"
#include "core/files.hpp"
#include "notify/webhook.hpp"
#include "spec/value.hpp"

namespace fs = std::filesystem;

namespace gopcast::slurm {

const EnumNames<PipelineState>& enum_names(PipelineState) {
  static const EnumNames<PipelineState> names{{PipelineState::Active, "active"}, {PipelineState::Paused, "paused"}};
  return names;
}

const EnumNames<Launcher>& enum_names(Launcher) {
  static const EnumNames<Launcher> names{{Launcher::Mpirun, "mpirun"}, {Launcher::Srun, "srun"}, {Launcher::Threads, "threads"}};
  return names;
}

bool valid_pipeline_name(std::string_view name) {
  static const std::regex re("[a-z0-9][a-z0-9_-]{0,62}");
  return std::regex_match(name.begin(), name.end(), re);
}

int nice_for_priority(int priority, int nice_step) { return (10 - priority) * nice_step; }

long license_pool_needed(int limit) { return static_cast<long>(limit) * (limit + 1); }

long license_units(long pool, int limit, std::string_view license) {
  if (limit <= 0) return 0;
  // limit * u <= pool < (limit + 1) * u with u = pool / limit needs limit * (limit + 1) <= pool.
  if (pool < license_pool_needed(limit))
    fail(ErrorCode::OutOfRange,
         "license {}: a pool of {} cannot cap jobs at {} exactly; a site administrator raises it to at least {} in slurm.conf",
         license, pool, limit, license_pool_needed(limit));
  return pool / limit;
}

namespace {

// Values that end up in #SBATCH lines: a strict character set, so the script text is
// safe whatever a pipeline file says.
void check_slurm_word(spec::TableReader& r, std::string_view key, const std::string& v) {
  static const std::regex re("[A-Za-z0-9_.,:+@-]*");
  if (!std::regex_match(v, re))
    r.fail_at(key, ErrorCode::OutOfRange, fmt::format("\"{}\": only letters, digits and _ . , : + @ - are allowed", v));
}

void check_time(spec::TableReader& r, std::string_view key, const std::string& v) {
  static const std::regex re("(\\d+|\\d+:\\d{1,2}|\\d+:\\d{1,2}:\\d{1,2}|\\d+-\\d+|\\d+-\\d+:\\d{1,2}|\\d+-\\d+:\\d{1,2}:\\d{1,2}|UNLIMITED|INFINITE)");
  if (!v.empty() && !std::regex_match(v, re))
    r.fail_at(key, ErrorCode::OutOfRange,
              fmt::format("\"{}\": not a Slurm time (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM:SS or UNLIMITED)", v));
}

}  // namespace

Pipeline load_pipeline(const fs::path& file) {
  toml::table table = spec::parse_file(file);
  const std::string origin = file.string();
  const fs::path base = file.parent_path();
  Pipeline p;
  p.file = file;
  spec::TableReader root(&table, "", origin);
  p.name = root.string("name").value_or(file.stem().string());
  if (!valid_pipeline_name(p.name))
    root.fail_at("name", ErrorCode::OutOfRange,
                 fmt::format("\"{}\": a pipeline name is 1-63 of a-z 0-9 _ - starting with a letter or digit", p.name));
  p.description = root.string("description").value_or("");
  if (auto s = root.enumerated<PipelineState>("state")) p.state = *s;

  auto s = root.table("slurm");
  p.partition = s.string("partition").value_or("");
  check_slurm_word(s, "partition", p.partition);
  p.account = s.string("account").value_or("");
  check_slurm_word(s, "account", p.account);
  p.qos = s.string("qos").value_or("");
  check_slurm_word(s, "qos", p.qos);
  p.ranks = static_cast<int>(s.integer("ranks", 1, 100000).value_or(1));
  p.nodes = static_cast<int>(s.integer("nodes", 1, 100000).value_or(1));
  if (p.nodes > p.ranks) s.fail_at("nodes", ErrorCode::OutOfRange, fmt::format("{} nodes for {} ranks: each node needs a rank", p.nodes, p.ranks));
  p.cpus_per_rank = static_cast<int>(s.integer("cpus_per_rank", 1, 4096).value_or(1));
  p.time_limit = s.string("time_limit").value_or("");
  check_time(s, "time_limit", p.time_limit);
  p.memory = s.string("memory").value_or("");
  static const std::regex mem("(\\d+[KMGT]?)?");
  if (!std::regex_match(p.memory, mem)) s.fail_at("memory", ErrorCode::OutOfRange, fmt::format("\"{}\": expected a size like 8G or 500M", p.memory));
  if (const toml::node* n = s.raw("sbatch_options")) {
    const toml::array* a = n->as_array();
    if (!a) s.fail_at("sbatch_options", ErrorCode::InvalidKey, "expected an array of strings");
    for (const auto& e : *a) {
      const auto* v = e.as_string();
      if (!v || !v->get().starts_with("--") || v->get().find_first_of(std::string("\n\r\0", 3)) != std::string::npos)
        s.fail_at("sbatch_options", ErrorCode::OutOfRange, "each entry must be one option starting with -- (e.g. \"--constraint=avx2\")");
      p.sbatch_options.push_back(v->get());
    }
  }
  p.max_concurrent = static_cast<int>(s.integer("max_concurrent", 0, 100000).value_or(0));
  p.license = s.string("license").value_or("gopcast_" + p.name);
  check_slurm_word(s, "license", p.license);
  p.nice_step = static_cast<int>(s.integer("nice_step", 1, 100000000).value_or(1000));
  if (auto l = s.enumerated<Launcher>("launcher")) p.launcher = *l;
  if (auto t = s.string("script_template")) p.script_template = fs::path(*t).is_relative() ? base / *t : fs::path(*t);
  s.finish();

  auto n = root.table("notify");
  if (auto url = n.string("url")) {
    NotifySettings ns;
    ns.url = *url;
    notify::validate_url(ns.url, origin + ": notify");
    if (auto v = n.string("secret")) ns.secret = *v;
    if (auto v = n.string("secret_file")) {
      fs::path f = fs::path(*v).is_relative() ? base / *v : fs::path(*v);
      std::error_code ec;
      if (!fs::is_regular_file(f, ec)) n.fail_at("secret_file", ErrorCode::ResourceNotFound, fmt::format("{}: no such file", f.string()));
      ns.secret = files::read(f);
      while (!ns.secret.empty() && (ns.secret.back() == '\n' || ns.secret.back() == '\r')) ns.secret.pop_back();
    }
    if (auto v = n.string("secret_env")) {
      const char* e = std::getenv(v->c_str());
      if (!e) n.fail_at("secret_env", ErrorCode::ResourceNotFound, fmt::format("environment variable {} is not set", *v));
      ns.secret = e;
    }
    if (const toml::node* ev = n.raw("events")) {
      const toml::array* a = ev->as_array();
      if (!a) n.fail_at("events", ErrorCode::InvalidKey, "expected an array of job states");
      for (const auto& e : *a) {
        const auto* v = e.as_string();
        const auto state = v ? parse_enum<jobs::JobState>(v->get()) : std::nullopt;
        if (!state) n.fail_at("events", ErrorCode::OutOfRange, "each entry is one of " + enum_names(jobs::JobState{}).list());
        ns.events.push_back(*state);
      }
    }
    ns.attempts = static_cast<int>(n.integer("attempts", 1, 20).value_or(4));
    ns.timeout_seconds = n.number("timeout_seconds", 0.1, 300).value_or(5);
    ns.backoff_seconds = n.number("backoff_seconds", 0, 300).value_or(1);
    if (const toml::node* al = n.raw("allow")) {
      const toml::array* a = al->as_array();
      if (!a) n.fail_at("allow", ErrorCode::InvalidKey, "expected an array of address classes");
      for (const auto& e : *a) {
        const auto* v = e.as_string();
        const auto c = v ? parse_enum<notify::AddressClass>(v->get()) : std::nullopt;
        if (!c || !notify::allowable(*c))
          n.fail_at("allow", ErrorCode::OutOfRange,
                    "each entry is loopback or private (public addresses are always allowed; link-local and reserved "
                    "ones never)");
        ns.allow.push_back(*c);
      }
    }
    // A literal address is checked now, so a refused one fails the submission, not each event.
    const notify::CheckedHost literal = notify::check_host(notify::url_host(ns.url).host, ns.allow, true);
    if (!literal.refused.empty()) n.fail_at("url", ErrorCode::OutOfRange, literal.refused);
    p.notify = std::move(ns);
  } else {
    for (const char* k : {"secret", "secret_file", "secret_env", "events", "attempts", "timeout_seconds", "backoff_seconds", "allow"})
      if (n.raw(k)) n.fail_at(k, ErrorCode::InvalidKey, "given without notify.url");
  }
  n.finish();
  root.finish();
  return p;
}

}  // namespace gopcast::slurm
