# Sidekiq::ScheduledSet and the poller: scheduled jobs run when due, due retries are
# re-enqueued, and both are rewritten as the Ruby client writes a job.
require "minitest/autorun"
require_relative "../support/harness"

class TestScheduled < Harness::TestCase
  def test_perform_in_runs_after_the_delay
    start_worker
    t0 = Time.now.to_f
    # What Worker.perform_in(2, ...) sends: the client turns "at" into the zset score.
    jid = push("Winch::Echo", ["sched_replies", "later"], at: t0 + 2)
    parked = push("Winch::Noop", ["parked"], queue: "parked", at: t0 + 2)

    set = Sidekiq::ScheduledSet.new
    assert_equal 2, set.size
    entry = set.find_job(parked)
    assert_in_delta t0 + 2, entry.score, 0.01
    refute entry.item.key?("at")
    refute entry.item.key?("enqueued_at")

    reply = wait_for("the scheduled job's reply", 15) { replies("sched_replies").first }
    assert_equal [jid, "later"], reply["args"]
    assert_operator reply["created_at"], :>=, t0 + 2, "a scheduled job never runs early"

    # A queue nobody serves shows the job exactly as the poller re-enqueued it.
    raw = wait_for("the parked job to be enqueued", 5) { raw_queue("parked").first }
    moved = JSON.parse(raw)
    refute moved.key?("at")
    assert_kind_of Float, moved["enqueued_at"]
    assert_operator moved["enqueued_at"], :>=, t0 + 2
    assert_match(/"enqueued_at":\d+\.\d+/, raw)
    assert_equal entry.item, moved.reject { |k, _| k == "enqueued_at" }, "nothing else changes"
    assert_includes Sidekiq::Queue.all.map(&:name), "parked", "re-enqueue adds the queue to 'queues'"
    assert_equal 0, Sidekiq::ScheduledSet.new.size
  end

  def test_future_job_stays_scheduled
    start_worker
    jid = push("Winch::Noop", [], at: Time.now.to_f + 3600)
    sleep 3
    entry = Sidekiq::ScheduledSet.new.first
    assert_equal jid, entry&.jid
    assert_equal 0, Sidekiq::Queue.new.size
  end

  # A due retry is moved back to its queue by the poller, runs, and with retry: 1 its
  # second failure exhausts it. enqueued_at shows it went through a fresh enqueue.
  def test_due_retry_is_polled_and_exhausted
    jid = push("Winch::Fail", ["RuntimeError", "polled"], retry: 1)
    start_worker
    first = wait_for("the retry entry") { Sidekiq::RetrySet.new.first }
    # Make it due now, keeping the member's exact bytes.
    assert redis.zadd("retry", Time.now.to_f.to_s, first.value, xx: true, ch: true),
      "the retry member was rescored in place"
    dead = wait_for("the retry to run and die", 15) { Sidekiq::DeadSet.new.first }
    assert_equal jid, dead.jid
    assert_equal 1, dead["retry_count"]
    assert_equal first["failed_at"], dead["failed_at"]
    assert_operator dead["enqueued_at"], :>, first["enqueued_at"]
    assert_equal 0, Sidekiq::RetrySet.new.size
  end
end
