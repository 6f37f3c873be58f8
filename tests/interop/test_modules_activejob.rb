# Handler modules from a Rails app's side: ActiveJob classes enqueued with Rails' Sidekiq
# adapter run in winch from modules built as a user builds them (a staged `make install`,
# pkg-config, `cc -shared -fPIC`): handlers/examples/extract.c for ExtractJob, and
# tests/support/argprobe.c, which replies with what the handler API shows it, to check that a
# plain Sidekiq job and an ActiveJob job (symbol keys, keyword arguments, a GlobalID) reach
# the handler as include/winch/winch.h documents. Only winch loads modules: with
# WORKER=sidekiq every test skips.
require "minitest/autorun"
require "logger"
require "active_job"
require_relative "../support/harness"
require_relative "../support/module_build"

ActiveJob::Base.queue_adapter = :sidekiq
ActiveJob::Base.logger = Logger.new(nil)
# What Sidekiq's railtie does in a Rails app: sidekiq_options on ActiveJob classes.
ActiveJob::Base.include(Sidekiq::Worker::Options) unless ActiveJob::Base.respond_to?(:sidekiq_options)
GlobalID.app = "winch"
I18n.available_locales = [:en, :de]

# The Rails side of handlers/examples: the job runs in winch, never in Ruby.
class ExtractJob < ActiveJob::Base
  queue_as :default
  sidekiq_options retry: 3, backtrace: 5

  def perform(csv_path, columns, output_path)
    raise NotImplementedError, "ExtractJob runs in winch (handlers/examples/extract.c)"
  end
end

class ArgProbeJob < ActiveJob::Base
  queue_as :default

  def perform(*args, **kwargs)
    raise NotImplementedError, "ArgProbeJob runs in winch (tests/support/argprobe.c)"
  end
end

# A model for GlobalID arguments: gid://winch/ProbeUser/<id>.
class ProbeUser
  include GlobalID::Identification

  attr_reader :id

  def self.find(id)
    new(id)
  end

  def initialize(id)
    @id = id
  end
end

class TestModulesActiveJob < Harness::TestCase
  WRAPPER = "ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper"
  BIG = 123456789012345678901234567890

  # One staged install and one build of each module for the whole file.
  def self.modules
    @modules ||= begin
      dir = File.join(Harness.tmpdir, "modules")
      stage = ModuleBuild::Stage.new(ModuleBuild.build_dir_for(Harness.winch_path, Harness::ROOT),
        File.join(dir, "stage"))
      [
        stage.compile(File.join(Harness::ROOT, "handlers/examples/extract.c"), File.join(dir, "extract.so")),
        stage.compile(File.join(Harness::SUPPORT, "argprobe.c"), File.join(dir, "argprobe.so"))
      ].each { |so| File.chmod(0o755, so) }
    end
  end

  def setup
    skip "handler modules are winch's: nothing to test with WORKER=sidekiq" unless Harness.winch?
    super
    @dir = File.join(Harness.tmpdir, "t-#{name}")
    FileUtils.mkdir_p(@dir)
  end

  # winch with both modules; beats (and so stats) every half second to keep the test short.
  def start_module_worker
    args = ["--beat-interval", "0.5", *self.class.modules.flat_map { |so| ["-M", so] }]
    start_worker(queues: ["default", "critical"], args: args)
  end

  # The ArgProbeReply for job +jid+, parsed.
  def probe_reply(jid)
    raw = wait_for("the ArgProbeReply to #{jid}") {
      raw_queue("probes").find { |s| JSON.parse(s)["args"][0]["jid"] == jid }
    }
    reply = JSON.parse(raw)
    assert_equal "ArgProbeReply", reply["class"]
    reply["args"][0]
  end

  def test_extract_job_perform_later_runs_in_winch_from_the_example_module
    csv = File.join(@dir, "in.csv")
    File.binwrite(csv, "id,name,amount\r\n1,\"Smith, John\",12.5\r\n2,\"say \"\"hi\"\"\",-3\r\n")
    out = File.join(@dir, "out.jsonl")
    t0 = Time.now.to_f
    job = ExtractJob.perform_later(csv, ["id", "amount"], out)
    payload = JSON.parse(raw_queue("default").first)
    assert_equal WRAPPER, payload["class"]
    assert_equal "ExtractJob", payload["wrapped"]
    assert_equal 3, payload["retry"], "sidekiq_options on the ActiveJob class go into the payload"
    assert_equal 5, payload["backtrace"]

    start_module_worker
    raw = wait_for("the ExtractSummaryJob") { raw_queue("reports").first }
    assert_equal [{"id" => "1", "amount" => "12.5"}, {"id" => "2", "amount" => "-3"}],
      File.readlines(out).map { |l| JSON.parse(l) }
    summary = JSON.parse(raw)
    assert_equal "ExtractSummaryJob", summary["class"]
    assert_equal "reports", summary["queue"]
    assert_equal [job.provider_job_id, out, 2,
      {"id" => {"sum" => 3.0, "min" => 1.0, "max" => 2.0},
       "amount" => {"sum" => 9.5, "min" => -3.0, "max" => 12.5}}], summary["args"]
    assert_operator summary["created_at"], :>=, t0
    wait_for_stats(processed: 1, failed: 0)
  end

  def test_extract_job_failure_follows_the_activejob_class_options
    missing = File.join(@dir, "missing.csv")
    job = ExtractJob.perform_later(missing, ["id"], File.join(@dir, "out.jsonl"))
    start_module_worker
    entry = wait_for("the retry entry") { Sidekiq::RetrySet.new.first }
    assert_equal job.provider_job_id, entry.jid
    assert_equal "ExtractJob", entry.display_class
    assert_equal "Errno::ENOENT", entry["error_class"]
    assert_equal "No such file or directory @ rb_sysopen - #{missing}", entry["error_message"]
    assert_equal 3, entry["retry"]
    assert_equal 0, entry["retry_count"]
    assert_equal ["extract.c:in `csv_open'"], entry.error_backtrace
    assert_operator entry.at.to_f - entry["failed_at"], :>=, 10, "retry_in 10 * (0 + 1) s"
    assert_operator entry.at.to_f - entry["failed_at"], :<, 20
    wait_for_stats(processed: 1, failed: 1)
  end

  def test_plain_sidekiq_job_reaches_the_handler_as_sent
    args = [1, "two", 2.5, nil, true, [1, [2]], {"a" => {"b" => []}, "ключ" => "ü ✓"}, "a/b", BIG]
    jid = push("ArgProbeJob", args, queue: "critical", retry_count: 2)
    raw = raw_queue("critical").first
    sent = JSON.parse(raw)
    start_module_worker
    probe = probe_reply(jid)

    assert_equal JSON.generate(args), probe["args_raw"], "args_raw: the args text byte for byte"
    assert_includes probe["args_raw"], BIG.to_s
    assert_equal args[0...-1], probe["args"][0...-1]
    assert_equal 2**64 - 1, probe["args"][-1],
      "winch_job_args: json-c clamps an integer beyond 64 bits (documented)"
    assert_equal raw, probe["payload"], "winch_job_payload: the payload byte for byte"
    assert_equal jid, probe["jid"]
    assert_equal "ArgProbeJob", probe["class"]
    assert_equal "critical", probe["queue"]
    assert_equal 2, probe["retry_count"]
    assert_in_delta sent["created_at"], probe["created_at"], 1e-6
    assert_in_delta sent["enqueued_at"], probe["enqueued_at"], 1e-6
    assert_nil probe["aj_job_id"]
    assert_equal(-1, probe["aj_executions"])
    assert_nil probe["aj_locale"]

    fresh = probe_reply(push("ArgProbeJob", []))
    assert_equal [], fresh["args"]
    assert_equal "[]", fresh["args_raw"]
    assert_equal(-1, fresh["retry_count"], "no retry_count in the payload: -1")
    wait_for_stats(processed: 2, failed: 0)
  end

  def test_activejob_job_reaches_the_handler_with_its_arguments_resolved
    user = ProbeUser.new(42)
    job = I18n.with_locale(:de) {
      ArgProbeJob.perform_later(1, {sym: 1, "str" => [2], nested: {deep: "x"}}, user,
        [{k: "v"}], "a/b", kw: "x", other: nil)
    }
    raw = raw_queue("default").first
    payload = JSON.parse(raw)
    serialized = payload["args"][0]
    assert_equal WRAPPER, payload["class"]
    assert_equal "ArgProbeJob", payload["wrapped"]
    assert_equal ["sym", "nested"], serialized["arguments"][1]["_aj_symbol_keys"]
    assert_equal({"_aj_globalid" => "gid://winch/ProbeUser/42"}, serialized["arguments"][2])
    assert_equal ["kw", "other"], serialized["arguments"][-1]["_aj_ruby2_keywords"]
    assert_equal 0, serialized["executions"]
    assert_equal "de", serialized["locale"]

    start_module_worker
    probe = probe_reply(job.provider_job_id)
    expected = [1, {"sym" => 1, "str" => [2], "nested" => {"deep" => "x"}},
      "gid://winch/ProbeUser/42", [{"k" => "v"}], "a/b", {"kw" => "x", "other" => nil}]
    assert_equal expected, probe["args"], "markers removed, the GlobalID as its URI"
    assert_equal expected, JSON.parse(probe["args_raw"]), "args_raw: the same resolved arguments"
    assert_equal raw, probe["payload"]
    assert_equal job.provider_job_id, probe["jid"]
    assert_equal "ArgProbeJob", probe["class"], "dispatched by the ActiveJob class"
    assert_equal "default", probe["queue"]
    assert_equal(-1, probe["retry_count"])
    assert_equal job.job_id, probe["aj_job_id"]
    assert_equal 0, probe["aj_executions"], "executions as the payload holds it"
    assert_equal "de", probe["aj_locale"]
    assert_in_delta payload["created_at"], probe["created_at"], 1e-6
    assert_in_delta payload["enqueued_at"], probe["enqueued_at"], 1e-6
    wait_for_stats(processed: 1, failed: 0)
  end
end
