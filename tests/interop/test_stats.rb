# Sidekiq::Stats totals, Stats::History daily counts, and Sidekiq::Queue as the worker
# under test leaves them.
require "minitest/autorun"
require_relative "../support/harness"

class TestStats < Harness::TestCase
  STATS_TTL = 5 * 365 * 24 * 60 * 60

  def test_processed_failed_and_daily_history
    start_worker(concurrency: 5)
    7.times { |i| push("Winch::Noop", [i]) }
    3.times { |i| push("Winch::Fail", ["RuntimeError", "stat #{i}"], retry: false) }

    wait_for_stats(processed: 10, failed: 3)
    today = Time.now.utc.to_date
    day = today.strftime("%Y-%m-%d")
    yesterday = (today - 1).strftime("%Y-%m-%d")
    history = Sidekiq::Stats::History.new(2)
    assert_equal({day => 10, yesterday => 0}, history.processed)
    assert_equal({day => 3, yesterday => 0}, history.failed)

    %w[processed failed].each do |kind|
      ttl = redis.ttl("stat:#{kind}:#{day}")
      assert_in_delta STATS_TTL, ttl, 120, "TTL of stat:#{kind}:#{day}"
      assert_equal(-1, redis.ttl("stat:#{kind}"), "stat:#{kind} must not expire")
    end

    s = stats
    assert_equal 0, s.enqueued
    assert_equal 0, s.retry_size
    assert_equal 0, s.dead_size
    assert_equal 1, s.processes_size
    assert_equal 0, s.workers_size
  end

  def test_stats_keep_counting_on_top_of_existing_totals
    redis.set("stat:processed", "1000")
    redis.set("stat:failed", "100")
    start_worker
    4.times { push("Winch::Noop", []) }
    push("Winch::Fail", ["RuntimeError", "x"], retry: false)
    wait_for_stats(processed: 1005, failed: 101)
  end

  def test_queue_size_latency_and_listing
    jids = 5.times.map { |i| push("Winch::Noop", [i], queue: "qtest") }
    sleep 0.3
    queue = Sidekiq::Queue.new("qtest")
    assert_equal 5, queue.size
    assert_operator queue.latency, :>=, 0.3
    assert_operator queue.latency, :<, 10
    assert_includes Sidekiq::Queue.all.map(&:name), "qtest"
    assert_equal jids, queue.map(&:jid).reverse, "Queue#each lists newest first"
    assert_equal 5, stats.enqueued

    start_worker(queues: ["qtest"])
    wait_for("qtest to drain") { queue.size.zero? }
    assert_equal 0, queue.latency
    assert_includes Sidekiq::Queue.all.map(&:name), "qtest", "a worker never removes a queue name"
    wait_for_stats(processed: 5, failed: 0)
    assert_equal 0, stats.enqueued
  end

  def test_queue_clear_leaves_other_queues_alone
    start_worker(queues: ["served"])
    3.times { push("Winch::Noop", [], queue: "idle") }
    2.times { push("Winch::Noop", [], queue: "idle2") }
    idle = Sidekiq::Queue.new("idle")
    assert_equal 3, idle.size
    idle.clear
    assert_equal 0, idle.size
    names = Sidekiq::Queue.all.map(&:name)
    refute_includes names, "idle"
    assert_includes names, "idle2"
    assert_equal 2, Sidekiq::Queue.new("idle2").size

    # A queue the worker does not serve keeps its jobs and its latency grows.
    sleep 0.2
    assert_operator Sidekiq::Queue.new("idle2").latency, :>=, 0.2
    assert_equal 2, Sidekiq::Queue.new("idle2").size
  end
end
