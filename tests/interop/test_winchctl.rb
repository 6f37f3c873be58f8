# winchctl against the real Sidekiq::API on the same Redis: what it pushes, the API reads as
# the Ruby client's jobs; what it shows (--json) equals what Stats, Queue, RetrySet,
# ScheduledSet, DeadSet and ProcessSet report; what it changes (retry now, delete, kill,
# quiet, stop), the API and the worker under test see.
#
#   WINCHCTL=path   the winchctl binary (default: next to $WINCH, else <repo>/build/winchctl)
require "minitest/autorun"
require "open3"
require "securerandom"
require "tempfile"
require_relative "../support/harness"

class TestWinchctl < Harness::TestCase
  BIG = 123456789012345678901234567890
  DEAD_URL = "redis://127.0.0.1:1/0" # nothing listens on port 1

  def winchctl_path
    ENV["WINCHCTL"] || File.join(File.dirname(Harness.winch_path), "winchctl")
  end

  # Runs winchctl; returns [stdout, stderr, Process::Status].
  def ctl(*args, env: {}, stdin: "")
    raise Harness::Error, "no winchctl at #{winchctl_path}" unless File.executable?(winchctl_path)
    Open3.capture3({"REDIS_URL" => Harness.redis_url, "REDIS_PROVIDER" => nil}.merge(env),
      winchctl_path, *args.map(&:to_s), stdin_data: stdin)
  end

  # Runs winchctl with --json, asserts exit 0, returns the parsed output.
  def ctl_json(*args, **opts)
    out, err, status = ctl(*args, "--json", **opts)
    assert_equal 0, status.exitstatus, "winchctl #{args.join(" ")} --json: #{err}"
    assert_equal "", err
    JSON.parse(out)
  end

  # Asserts winchctl exits with code, and (for usage errors) says one line naming what.
  def assert_exit(code, args, names = nil, env: {})
    out, err, status = ctl(*args, env: env)
    assert_equal code, status.exitstatus, "winchctl #{args.join(" ")}: #{out} #{err}"
    if names
      assert_equal 1, err.lines.size, "one line: #{err.inspect}"
      assert_includes err, names
    end
    [out, err]
  end

  # A job as a worker leaves it in the retry or dead set (SIDEKIQ-PROTOCOL.md §2.2).
  def failed_job(klass, args, retry_count: 0, **extra)
    now = Time.now.to_f
    {"retry" => true, "queue" => "default", "args" => args, "class" => klass,
     "jid" => SecureRandom.hex(12), "created_at" => now - 100, "enqueued_at" => now - 90,
     "error_message" => "boom #{args.inspect}", "error_class" => "RuntimeError",
     "failed_at" => now - 80, "retry_count" => retry_count}.merge(extra)
  end

  def seed(set, score, job)
    set.schedule(score, job)
    job
  end

  # What a set shows, as winchctl's --json reports it: [score, jid, item] in API order. A
  # member that is not JSON is an empty item to the API (JobRecord#parse) and a null item
  # (with its text in "value") to winchctl.
  def api_entries(set)
    set.map { |e| [e.score, e.jid, e.item.empty? ? nil : e.item] }
  end

  def ctl_entries(name, *flags)
    ctl_json(name, *flags).map { |e| [e["score"], e["jid"], e["item"]] }
  end

  # ---- push ---------------------------------------------------------------------------------

  def test_push_writes_the_ruby_clients_payload
    ruby_jid = Sidekiq::Client.push("class" => "OkJob", "args" => [1])
    ruby_raw = raw_queue("default").first
    t0 = Time.now.to_f
    args = %([1,"two",{"three":3},#{BIG}, 1.50])
    out, err, status = ctl("push", "OkJob", args)
    t1 = Time.now.to_f
    assert status.success?, err
    jid = out.chomp
    assert_match(/\A\h{24}\z/, jid)
    assert_equal jid.downcase, jid

    q = Sidekiq::Queue.new
    assert_equal 2, q.size
    job = q.find_job(jid)
    refute_nil job, "Sidekiq::Queue finds the pushed jid"
    assert_equal "OkJob", job.klass
    assert_equal [1, "two", {"three" => 3}, BIG, 1.5], job.args
    assert_equal "default", job.queue
    assert_equal true, job["retry"]
    assert_kind_of Float, job["created_at"]
    assert_kind_of Float, job["enqueued_at"]
    assert_operator job["enqueued_at"], :>=, t0 - 0.01
    assert_operator job["enqueued_at"], :<=, t1 + 0.01
    assert_in_delta 0, job.latency, 5
    assert_includes job.value, args, "args are written byte for byte"
    assert_equal JSON.parse(ruby_raw).keys.sort, job.item.keys.sort, "the Ruby client's members"
    JSON.parse(ruby_raw).each { |k, v| assert_kind_of v.class, job[k], "type of #{k}" }
    assert_equal ["default"], Sidekiq::Queue.all.map(&:name)
    refute_equal ruby_jid, jid
  end

  def test_push_options_queue_and_generation
    out, err, status = ctl("push", "Opt::Job", "[]", "--queue", "low", "--retry", "3",
      "--backtrace", "true", "--extra", '{"tags":["a"],"retry_queue":"rq"}')
    assert status.success?, err
    job = Sidekiq::Queue.new("low").find_job(out.chomp)
    refute_nil job
    assert_equal 3, job["retry"]
    assert_equal true, job["backtrace"]
    assert_equal ["a"], job.tags
    assert_equal "rq", job["retry_queue"]
    assert_equal [], job.args
    assert_equal ["low"], Sidekiq::Queue.all.map(&:name)

    out, = ctl("push", "No::Retry", "--retry", "false", "--backtrace", "5")
    job = Sidekiq::Queue.new.find_job(out.chomp)
    assert_equal false, job["retry"]
    assert_equal 5, job["backtrace"]

    out, = ctl("push", "Gen8", "[8]", "--sidekiq", "8")
    job = Sidekiq::Queue.new.find_job(out.chomp)
    assert_kind_of Integer, job["created_at"], "Sidekiq 8 writes integer milliseconds"
    assert_kind_of Integer, job["enqueued_at"]
    assert_in_delta Time.now.to_f * 1000, job["enqueued_at"], 5000
  end

  def test_push_scheduled_goes_to_the_schedule_set
    t0 = Time.now.to_f
    info = ctl_json("push", "Later", "[1]", "--in", "120")
    entry = Sidekiq::ScheduledSet.new.find_job(info["jid"])
    refute_nil entry, "the job is in Sidekiq::ScheduledSet"
    assert_in_delta t0 + 120, entry.score, 5
    assert_equal info["at"], entry.score, "--json prints the score"
    refute entry.item.key?("enqueued_at"), "a scheduled job has no enqueued_at"
    refute entry.item.key?("at")
    assert_kind_of Float, entry["created_at"]
    assert_equal 0, Sidekiq::Queue.new.size

    at = (Time.now + 3600).to_f.round(3)
    info = ctl_json("push", "Later", "--at", at.to_s)
    assert_equal at, Sidekiq::ScheduledSet.new.find_job(info["jid"]).score

    # A time not after now runs now, as perform_in / perform_at.
    info = ctl_json("push", "Now", "--in", "0")
    assert_nil info["at"]
    refute_nil Sidekiq::Queue.new.find_job(info["jid"])
    assert_equal 2, Sidekiq::ScheduledSet.new.size
  end

  def test_push_bulk_from_a_file
    file = Tempfile.new("bulk")
    file.write("[1]\n\n[2,\"x\"]\n[#{BIG}]\n")
    file.close
    out, err, status = ctl("push", "BulkJob", "--bulk", file.path, "--queue", "bulk")
    assert status.success?, err
    jids = out.lines.map(&:chomp)
    assert_equal 3, jids.size
    q = Sidekiq::Queue.new("bulk")
    assert_equal 3, q.size
    assert_equal jids.sort, q.map(&:jid).sort
    assert_equal [[1], [2, "x"], [BIG]], jids.map { |j| q.find_job(j).args }

    info = ctl_json("push", "BulkJob", "--bulk", "-", "--in", "60", stdin: "[1]\n[2]\n")
    assert_equal 2, info["jids"].size
    assert_equal info["jids"].sort, Sidekiq::ScheduledSet.new.map(&:jid).sort

    # All or nothing: a bad line pushes nothing.
    _, err, status = ctl("push", "BulkJob", "--bulk", "-", "--queue", "none", stdin: "[1]\n{}\n")
    assert_equal 2, status.exitstatus
    assert_includes err, "line 2"
    assert_equal 0, Sidekiq::Queue.new("none").size
  ensure
    file&.unlink
  end

  def test_exit_codes_and_usage_lines
    assert_exit(2, %w[push], "CLASS")
    assert_exit(2, ["push", "X", "{}"], "args")
    assert_exit(2, %w[push X --retry maybe], "--retry")
    assert_exit(2, %w[push X --in 5 --at 6], "--at")
    assert_exit(2, %w[queues --frob], "--frob")
    assert_exit(2, %w[stats --in 5], "--in")
    assert_exit(2, %w[retries --limit 0], "--limit")
    assert_exit(2, %w[frob], "frob")
    assert_exit(2, [], "command")
    assert_exit(2, %w[retries retry], "--all")
    assert_exit(2, %w[dead kill --all], "kill")
    assert_exit(2, %w[quiet], "--all")
    assert_exit(2, %w[stats], "REDIS_URL", env: {"REDIS_URL" => "http://nope"})
    assert_exit(2, %w[stats], "REDIS_PROVIDER", env: {"REDIS_PROVIDER" => "WINCHCTL_NO_SUCH"})
    assert_exit(3, %w[stats], "unreachable", env: {"REDIS_URL" => DEAD_URL})
    assert_exit(3, %w[push X], "unreachable", env: {"REDIS_URL" => DEAD_URL})
    assert_exit(1, %w[retries --jid 0123456789abcdef01234567], "no job")
    assert_exit(1, %w[dead retry 0123456789abcdef01234567], "no job")
    assert_exit(1, %w[stop nosuch:1:abcdefabcdef], "nosuch")
    out, _ = assert_exit(0, %w[-h])
    assert_includes out, "Exit codes"
    out, _ = assert_exit(0, %w[-V])
    assert_match(/\Awinchctl \d+\.\d+\.\d+/, out)
    assert_equal 0, Sidekiq::Queue.all.size, "nothing was pushed by the refused commands"
  end

  # ---- the sets -----------------------------------------------------------------------------

  def test_sets_list_as_the_api_enumerates_them
    now = Time.now.to_f
    rs = Sidekiq::RetrySet.new
    jobs = 5.times.map { |i| seed(rs, now + 30 + i, failed_job("R#{i % 2}", [i, BIG], retry_count: i)) }
    aj = seed(rs, now + 40, failed_job("ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper",
      [{"job_class" => "MyAj", "arguments" => []}], "wrapped" => "MyAj"))
    seed(Sidekiq::ScheduledSet.new, now + 500, {"retry" => true, "queue" => "q", "class" => "S",
      "args" => [], "jid" => SecureRandom.hex(12), "created_at" => now})
    seed(Sidekiq::DeadSet.new, now - 5, failed_job("D", [1]))
    redis.zadd("dead", now - 10, "not json {")

    assert_equal api_entries(Sidekiq::RetrySet.new), ctl_entries("retries")
    assert_equal api_entries(Sidekiq::ScheduledSet.new), ctl_entries("scheduled")
    assert_equal api_entries(Sidekiq::DeadSet.new), ctl_entries("dead")
    invalid = ctl_json("dead").last
    assert_nil invalid["item"]
    assert_equal "not json {", invalid["value"]

    r1 = Sidekiq::RetrySet.new.select { |e| e.klass == "R1" }.map { |e| [e.score, e.jid, e.item] }
    assert_equal r1, ctl_entries("retries", "--class", "R1")
    assert_equal [aj["jid"]], ctl_json("retries", "--class", "MyAj").map { |e| e["jid"] },
      "--class matches the ActiveJob class too"
    assert_equal "MyAj", ctl_json("retries", "--class", "MyAj").first["display_class"]
    found = Sidekiq::RetrySet.new.find_job(jobs[2]["jid"])
    assert_equal [[found.score, found.jid, found.item]], ctl_entries("retries", "--jid", jobs[2]["jid"])
    assert_equal api_entries(Sidekiq::RetrySet.new).first(2), ctl_entries("retries", "--limit", "2")

    out, _, status = ctl("retries")
    assert status.success?
    assert_match(/^JID\s+CLASS\s+QUEUE\s+RETRY\s+NEXT RETRY\s+ERROR\s+ARGS$/, out.lines.first)
    assert_equal 7, out.lines.size
    assert_includes out, "MyAj"
  end

  # SortedEntry#retry for two twins, one through the API and one through winchctl: the same
  # job lands in the queue (retry_count - 1, fresh enqueued_at, every other byte kept).
  def test_retry_now_as_the_api_does
    now = Time.now.to_f
    [Sidekiq::RetrySet.new, Sidekiq::DeadSet.new].each do |set|
      redis.flushall
      twin = failed_job("Twin", [BIG, "x"], retry_count: 2, "queue" => "tq", "custom" => {"k" => 1})
      seed(set, now + 10, twin)
      seed(set, now + 11, twin.merge("jid" => SecureRandom.hex(12)))
      api_entry, ctl_entry = set.to_a
      api_entry.retry
      t0 = Time.now.to_f
      info = ctl_json(set.name == "retry" ? "retries" : "dead", "retry", ctl_entry.jid)
      assert_equal({"action" => "retry", "jids" => [ctl_entry.jid]}, info)
      assert_equal 0, set.size, "#{set.name}: both left the set"

      q = Sidekiq::Queue.new("tq")
      by_api = q.find_job(api_entry.jid)
      by_ctl = q.find_job(ctl_entry.jid)
      refute_nil by_ctl
      assert_equal 1, by_ctl["retry_count"], "retry now does not count as a retry"
      assert_operator by_ctl["enqueued_at"], :>=, t0 - 0.01
      drop = ->(h) { h.reject { |k, _| %w[jid enqueued_at].include?(k) } }
      assert_equal drop.(by_api.item), drop.(by_ctl.item)
      assert_includes by_ctl.value, BIG.to_s
      assert_equal ["tq"], Sidekiq::Queue.all.map(&:name)
    end

    # Scheduled jobs are enqueued as they are (add_to_queue): no retry_count is touched.
    redis.flushall
    sched = {"retry" => 2, "queue" => "sq", "class" => "S", "args" => [1], "jid" => SecureRandom.hex(12),
             "created_at" => now, "retry_count" => 4}
    seed(Sidekiq::ScheduledSet.new, now + 100, sched)
    ctl_json("scheduled", "retry", "--class", "S")
    job = Sidekiq::Queue.new("sq").find_job(sched["jid"])
    refute_nil job
    assert_equal 4, job["retry_count"]
    assert_kind_of Float, job["enqueued_at"]
    assert_equal 0, Sidekiq::ScheduledSet.new.size
  end

  def test_delete_and_kill_as_the_api_does
    now = Time.now.to_f
    rs = Sidekiq::RetrySet.new
    a = seed(rs, now + 10, failed_job("K", [1]))
    b = seed(rs, now + 11, failed_job("K", [2]))
    c = seed(rs, now + 12, failed_job("Del", [3]))
    values = rs.to_h { |e| [e.jid, e.value] }

    rs.find_job(a["jid"]).kill
    t0 = Time.now.to_f
    assert_equal({"action" => "kill", "jids" => [b["jid"]]}, ctl_json("retries", "kill", b["jid"]))
    dead = Sidekiq::DeadSet.new
    assert_equal 2, dead.size
    killed = dead.find_job(b["jid"])
    assert_equal values[b["jid"]], killed.value, "the member moves byte for byte"
    assert_in_delta t0, killed.score, 5
    assert_equal dead.find_job(a["jid"]).item.keys.sort, killed.item.keys.sort

    out, _, status = ctl("retries", "delete", "--jid", c["jid"])
    assert status.success?
    assert_includes out, c["jid"]
    assert_equal 0, rs.size
    assert_nil rs.find_job(c["jid"])
    assert_equal 2, Sidekiq::DeadSet.new.size

    # kill from the schedule set; delete everything dead with --all.
    s = seed(Sidekiq::ScheduledSet.new, now + 99, failed_job("S", []))
    ctl_json("scheduled", "kill", "--all")
    refute_nil Sidekiq::DeadSet.new.find_job(s["jid"])
    assert_equal 3, ctl_json("dead", "delete", "--all")["jids"].size
    assert_equal 0, Sidekiq::DeadSet.new.size
  end

  # ---- with the worker under test -----------------------------------------------------------

  def test_stats_and_queues_equal_the_api
    w = start_worker(queues: ["default"])
    3.times { |i| push("Winch::Noop", [i]) }
    push("Winch::Fail", ["RuntimeError", "to retry"], retry: 3)
    push("Winch::Fail", ["RuntimeError", "to dead"], retry: 0)
    wait_for("a retry and a dead job") { Sidekiq::RetrySet.new.size == 1 && Sidekiq::DeadSet.new.size == 1 }
    wait_for_stats(processed: 5, failed: 2)
    # Queues nobody works, with a latency, and a scheduled job.
    push("Winch::Noop", [1], queue: "idle")
    push("Winch::Noop", [2], queue: "idle")
    push("Winch::Noop", [3], queue: "zzz")
    Sidekiq::Client.push("class" => "Winch::Noop", "args" => [], "at" => Time.now.to_f + 600)
    sleep 0.3

    names = %w[processed failed scheduled_size retry_size dead_size processes_size workers_size enqueued]
    api = ours = nil
    same = Harness.wait_until(10, interval: 0.2) {
      s = Sidekiq::Stats.new
      api = names.to_h { |n| [n, s.public_send(n.to_sym)] }.merge("default_queue_latency" => s.default_queue_latency)
      ours = ctl_json("stats")
      names.all? { |n| api[n] == ours[n] }
    }
    assert same, "stats: API #{api.inspect}, winchctl #{ours.inspect}"
    assert_equal (names + ["default_queue_latency"]).sort, ours.keys.sort
    assert_in_delta api["default_queue_latency"], ours["default_queue_latency"], 1
    assert_equal 3, ours["enqueued"]
    assert_equal 1, ours["processes_size"]

    queues = ctl_json("queues")
    api_queues = Sidekiq::Queue.all
    assert_equal api_queues.map { |q| [q.name, q.size] }, queues.map { |q| [q["name"], q["size"]] }
    api_queues.zip(queues).each do |q, mine|
      assert_in_delta q.latency, mine["latency"], 1, "latency of #{q.name}"
    end
    assert_operator queues.find { |q| q["name"] == "idle" }["latency"], :>, 0.2

    out, _, status = ctl("stats")
    assert status.success?
    assert_match(/^Retries\s+1$/, out)
    assert_match(/^Enqueued\s+3$/, out)
    assert w.alive?
  end

  def test_processes_equal_the_process_set
    w = start_worker(concurrency: 4, queues: ["default", "other"], tag: "ctl-tag")
    api = ours = nil
    same = Harness.wait_until(12, interval: 0.2) {
      api = Sidekiq::ProcessSet.new(false).map { |p| p.instance_variable_get(:@attribs) }
      ours = ctl_json("processes")
      api == ours
    }
    assert same, "processes: API #{api.inspect}\nwinchctl #{ours.inspect}"
    assert_equal 1, ours.size
    assert_equal w.identity, ours.first["identity"]
    assert_equal "ctl-tag", ours.first["tag"]

    out, _, status = ctl("processes")
    assert status.success?
    header, row = out.lines
    assert_match(/^HOST\s+PID\s+TAG\s+LABELS\s+BUSY\s+QUIET\s+RSS\s+BEAT\s+IDENTITY$/, header)
    assert_includes row, w.identity
    assert_includes row, "0/4"
    assert_includes row, "ctl-tag"
    assert_match(/\bno\b/, row)
  end

  def test_quiet_then_stop
    w = start_worker
    identity = w.identity
    info = ctl_json("quiet", identity)
    assert_equal({"signal" => "TSTP", "identities" => [identity]}, info)
    wait_for("the process to turn quiet", 13, interval: 0.1) { w.process&.stopping? }
    assert w.alive?, "quiet does not stop the process"
    push("Winch::Noop", [])
    sleep 2
    assert_equal 1, Sidekiq::Queue.new.size, "a quiet process fetches nothing"
    assert_equal "true", ctl_json("processes").first["quiet"]
    assert_match(/\syes\s/, ctl("processes").first.lines[1], "QUIET column")

    out, _, status = ctl("stop", "--all")
    assert status.success?
    assert_equal "TERM sent to #{identity}\n", out
    status = w.wait_exit(13)
    refute_nil status, "the process exits after stop"
    assert status.success?, "exit 0: #{status.inspect}"
    wait_for("the process set to empty") { ctl_json("processes").empty? }
    assert_exit(1, %w[quiet --all], "no process")
  end

  def test_stop_by_identity
    w = start_worker
    _, err, status = ctl("stop", w.identity)
    assert status.success?, err
    status = w.wait_exit(13)
    refute_nil status, "the process exits after stop"
    assert status.success?
  end

  # ---- namespace ----------------------------------------------------------------------------

  def test_namespace_prefixes_every_key
    out, = ctl("push", "NsJob", "[1]", "--namespace", "myapp")
    jid = out.chomp
    assert_equal 1, redis.llen("myapp:queue:default")
    assert_equal ["default"], redis.smembers("myapp:queues")
    assert_equal 0, redis.exists("queue:default") + redis.exists("queues")
    assert_equal jid, JSON.parse(redis.lindex("myapp:queue:default", 0))["jid"]

    assert_equal 1, ctl_json("stats", "--namespace", "myapp")["enqueued"]
    assert_equal 0, ctl_json("stats")["enqueued"]
    assert_equal [["default", 1]], ctl_json("queues", "--namespace", "myapp").map { |q| [q["name"], q["size"]] }

    job = failed_job("NsRetry", [2])
    redis.zadd("myapp:retry", Time.now.to_f + 60, JSON.generate(job))
    assert_equal [job["jid"]], ctl_json("retries", "--namespace", "myapp").map { |e| e["jid"] }
    assert_equal [], ctl_json("retries")
    ctl_json("retries", "retry", job["jid"], "--namespace", "myapp")
    assert_equal 0, redis.zcard("myapp:retry")
    assert_equal 2, redis.llen("myapp:queue:default")
  end
end
