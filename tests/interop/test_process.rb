# Sidekiq::ProcessSet, Sidekiq::Workers, and quiet!/stop! sent through the API.
# Heartbeats come every 5 s (6.x) and a signal is picked up once per beat, so the waits here
# allow for two beats.
require "minitest/autorun"
require_relative "../support/harness"

class TestProcess < Harness::TestCase
  BEATS = 13 # seconds: two heartbeats plus slack

  def test_process_set_entry
    t0 = Time.now.to_f
    w = start_worker(concurrency: 7, queues: ["alpha,2", "beta"], tag: "interop-tag")
    p = w.process
    host = Harness.hostname
    assert_equal host, p["hostname"]
    assert_equal w.pid, p["pid"]
    assert_equal "interop-tag", p.tag
    assert_equal 7, p["concurrency"]
    assert_equal ["alpha", "beta"], p.queues
    assert_equal [], p.labels
    assert_equal 0, p["busy"]
    assert_equal "false", p["quiet"]
    refute p.stopping?
    assert_match(/\A#{Regexp.escape(host)}:#{w.pid}:\h{12}\z/, p.identity)
    assert_equal p.identity.downcase, p.identity
    assert_kind_of Float, p["started_at"]
    assert_in_delta t0, p["started_at"], 10
    assert_in_delta Time.now.to_f, p["beat"], 10
    assert_operator p["rss"], :>, 0
    assert_kind_of Integer, p["rtt_us"]

    assert_includes redis.smembers("processes"), p.identity
    ttl = redis.ttl(p.identity)
    assert_includes 1..60, ttl, "the identity hash expires within 60 s unless refreshed"
    info = JSON.parse(redis.hget(p.identity, "info"))
    assert_equal p.identity, info["identity"]
    assert_equal 1, stats.processes_size
    assert_equal 7, Sidekiq::ProcessSet.new.total_concurrency
  end

  def test_workers_show_a_running_job
    jid = push("Winch::Sleep", [6000, "sleep_replies", "slept"])
    raw_job = raw_queue("default").first
    t0 = Time.now.to_i
    w = start_worker(concurrency: 3)
    first_beat = w.process["beat"]

    process_id, tid, work = wait_for("the job in Sidekiq::Workers", 8) { Sidekiq::Workers.new.first }
    assert_equal w.identity, process_id
    assert_kind_of String, tid
    refute_empty tid
    assert_equal "default", work["queue"]
    assert_equal "Winch::Sleep", work["payload"]["class"]
    assert_equal jid, work["payload"]["jid"]
    assert_equal [6000, "sleep_replies", "slept"], work["payload"]["args"]
    assert_kind_of Integer, work["run_at"]
    assert_includes (t0 - 1)..Time.now.to_i, work["run_at"]
    stored = JSON.parse(redis.hget("#{w.identity}:workers", tid))
    assert_equal raw_job, stored["payload"], "the payload is the job string, JSON-encoded again"
    assert_equal 1, w.process["busy"]
    assert_equal 1, Sidekiq::Workers.new.size
    assert_equal 1, stats.workers_size

    reply = wait_for("the sleep reply", 10) { replies("sleep_replies").first }
    assert_equal [jid, "slept"], reply["args"]
    wait_for("Workers to empty after the job", BEATS) { Sidekiq::Workers.new.to_a.empty? && w.process["busy"].zero? }
    assert_operator w.process["beat"], :>, first_beat, "the heartbeat keeps beating"
    assert_operator redis.ttl(w.identity), :>, 0
  end

  def test_quiet_from_the_api
    w = start_worker
    w.process.quiet!
    wait_for("stopping? to turn true", BEATS, interval: 0.1) { w.process&.stopping? }
    assert_equal "true", redis.hget(w.identity, "quiet")
    3.times { |i| push("Winch::Noop", [i]) }
    sleep 3
    assert_equal 3, Sidekiq::Queue.new.size, "a quiet process takes no new jobs"
    assert w.alive?, "quiet does not stop the process"
    assert w.process, "a quiet process stays in the ProcessSet"

    status = w.stop
    assert status&.success?, "clean exit after TERM: #{status.inspect}"
    assert_equal 3, Sidekiq::Queue.new.size
  end

  def test_stop_from_the_api
    w = start_worker
    identity = w.identity
    w.process.stop!
    status = w.wait_exit(BEATS)
    refute_nil status, "the process exits after stop!"
    assert status.success?, "exit status 0: #{status.inspect}"
    refute_includes redis.smembers("processes"), identity
    assert_nil Sidekiq::ProcessSet.new.find { |p| p.identity == identity }
    assert_equal 0, redis.exists("#{identity}:workers")
    assert_equal 0, stats.processes_size
  end
end
