# SIGTERM: wait up to -t for running jobs, push the unfinished ones back byte for byte,
# leave the ProcessSet, exit 0.
require "minitest/autorun"
require_relative "../support/harness"

class TestShutdown < Harness::TestCase
  def test_term_pushes_a_long_job_back_unchanged
    push("Winch::Sleep", [10_000, "never"])
    long_raw = raw_queue("default").first
    w = start_worker(concurrency: 1, timeout: 1)
    identity = w.identity
    wait_for("the long job to be fetched") { redis.llen("queue:default").zero? }
    push("Winch::Noop", ["waiting"])
    waiting_raw = raw_queue("default").first
    sleep 0.3

    t = Harness.monotonic
    w.signal("TERM")
    status = w.wait_exit(10)
    elapsed = Harness.monotonic - t
    refute_nil status, "the process exits after TERM"
    assert status.success?, "exit status 0: #{status.inspect}"
    assert_operator elapsed, :<, 7, "-t 1 bounds the wait, the job had 10 s to go"
    # LPUSHed jobs sit at the head, the requeued one goes to the tail (RPUSH): next to run.
    assert_equal [waiting_raw, long_raw], redis.lrange("queue:default", 0, -1),
      "the long job is back at the tail with its exact bytes"
    refute_includes redis.smembers("processes"), identity
    assert_equal 0, redis.exists("#{identity}:workers")
    assert_equal 0, Sidekiq::RetrySet.new.size
    assert_equal 0, Sidekiq::DeadSet.new.size
    assert_equal [], redis.lrange("queue:never", 0, -1)
  end

  def test_term_lets_a_short_job_finish
    jid = push("Winch::Sleep", [1500, "term_replies", "finished"])
    w = start_worker(concurrency: 2, timeout: 6)
    wait_for("the job to be fetched") { redis.llen("queue:default").zero? }
    w.signal("TERM")
    status = w.wait_exit(12)
    refute_nil status
    assert status.success?, "exit status 0: #{status.inspect}"
    assert_equal [[jid, "finished"]], replies("term_replies").map { |r| r["args"] }
    assert_equal 0, redis.llen("queue:default"), "a finished job is not pushed back"
    assert_equal [1, 0], [stats.processed, stats.failed], "stats are flushed at exit"
  end
end
