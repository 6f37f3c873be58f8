# The built-in handlers as the Ruby client sees them: Echo's reply carries the arguments
# exactly as sent; Noop, Digest and Sleep succeed.
require "minitest/autorun"
require_relative "../support/harness"

class TestEcho < Harness::TestCase
  BIG = 123456789012345678901234567890
  REST = [
    BIG, -98765432109876543210987654321, 9223372036854775807, 18446744073709551616,
    "ünïcødé ✓ 日本語 🚀", "esc \" \\ / \n \t \u0001 </script>", "",
    0.1, 1.0e-7, 3.141592653589793, 1.5e+300, -0.5, 0, -1,
    true, false, nil,
    {"nested" => {"deep" => [1, [2, [3, {"x" => nil}]]]}, "empty" => {}, "ключ" => "значение"},
    [], [[]]
  ].freeze

  def test_echo_round_trip_is_exact
    jid = push("Winch::Echo", ["replies", *REST])
    t0 = Time.now.to_f
    start_worker
    raw = wait_for("the echo reply") { redis.lrange("queue:replies", 0, -1).first }
    t1 = Time.now.to_f
    reply = JSON.parse(raw)
    assert_equal [jid, *REST], reply["args"]
    assert_includes raw, BIG.to_s
    assert_includes raw, "-98765432109876543210987654321"
    assert_includes raw, "18446744073709551616"
    assert_equal "Winch::EchoReply", reply["class"]
    assert_equal "replies", reply["queue"]
    assert_equal true, reply["retry"]
    assert_match(/\A\h{24}\z/, reply["jid"])
    assert_equal reply["jid"].downcase, reply["jid"]
    refute_equal jid, reply["jid"]
    %w[created_at enqueued_at].each do |k|
      assert_kind_of Float, reply[k]
      assert_operator reply[k], :>=, t0 - 0.01
      assert_operator reply[k], :<=, t1
      assert_match(/"#{k}":\d+\.\d+/, raw)
    end
    assert_includes Sidekiq::Queue.all.map(&:name), "replies"
    assert_equal 1, redis.llen("queue:replies")
  end

  def test_noop_digest_and_sleep_succeed
    push("Winch::Noop", [])
    push("Winch::Noop", [1, "two", {"three" => 3}])
    push("Winch::Digest", ["abc", 2000])
    sleep_jid = push("Winch::Sleep", [50, "sleep_replies", "a", 1])
    push("Winch::Sleep", [20])
    push("Winch::Sleep", [20, nil, "ignored"])
    start_worker
    wait_for_stats(processed: 6, failed: 0)
    assert_equal [[sleep_jid, "a", 1]], replies("sleep_replies").map { |r| r["args"] }
    assert_equal ["sleep_replies"], Sidekiq::Queue.all.map(&:name) - ["default"],
      "a nil reply queue sends no reply"
    assert_equal 0, Sidekiq::RetrySet.new.size
  end
end
