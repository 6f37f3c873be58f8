# Queue order: strict priority without weights, weighted random with weights.
require "minitest/autorun"
require_relative "../support/harness"

class TestQueues < Harness::TestCase
  def tags(queue)
    replies(queue).map { |r| r["args"][1] }
  end

  def test_strict_order_takes_every_high_job_before_low
    # The low jobs are older: strict order still serves high first, each queue FIFO.
    15.times { |i| push("Winch::Echo", ["order", "low-#{i}"], queue: "low") }
    15.times { |i| push("Winch::Echo", ["order", "high-#{i}"], queue: "high") }
    start_worker(concurrency: 1, queues: ["high", "low"])
    wait_for("30 replies", 20) { redis.llen("queue:order") == 30 }
    expected = 15.times.map { |i| "high-#{i}" } + 15.times.map { |i| "low-#{i}" }
    assert_equal expected, tags("order")
  end

  # Weights 3:1 put queue a first in the fetch order with probability 3/4. Over the first 160
  # fetches that is 120 +- 5.5 a-jobs; strict order would give 160, no weights 80.
  def test_weighted_order_follows_the_weights
    200.times { |i| push("Winch::Echo", ["wreplies", "a-#{i}"], queue: "wa") }
    200.times { |i| push("Winch::Echo", ["wreplies", "b-#{i}"], queue: "wb") }
    w = start_worker(concurrency: 1, queues: ["wa,3", "wb,1"])
    assert_equal ["wa", "wb"], w.process.queues
    wait_for("400 replies", 40) { redis.llen("queue:wreplies") == 400 }
    order = tags("wreplies")
    first = order.first(160)
    a_count = first.count { |t| t.start_with?("a-") }
    assert_includes 95..145, a_count, "a-jobs among the first 160: #{a_count}"
    assert_includes order.first(40).map { |t| t[0] }, "b", "the lighter queue is not starved"
    assert_equal 200.times.map { |i| "a-#{i}" }, order.select { |t| t.start_with?("a-") }, "each queue stays FIFO"
    assert_equal 400, order.uniq.size
  end
end
