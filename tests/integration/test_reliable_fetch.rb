# Reliable fetch: a fetched job waits in this process's in-progress list until its outcome is
# recorded; a process killed with SIGKILL leaves it there, and another process recovers it
# once the dead one's heartbeat hash is gone (here deleted, as its 60 s expiry would);
# a job that keeps killing its processes goes to the dead set as a poison pill.
require_relative "helper"

class TestReliableFetch < Integration::Test
  def wip_key(identity, queue = "default")
    "winch:wip:#{identity}:#{queue}"
  end

  def wait_started(w, jid)
    wait_for("job #{jid} to start", 10) { w.log.include?("jid=#{jid} INFO: start") }
  end

  def kill9(w)
    w.signal("KILL")
    w.wait_exit(5)
  end

  def test_in_progress_list_holds_the_running_job_and_empties_on_ack
    w, identity = start_winch("-c", "2")
    assert_includes redis.smembers("winch:wip"), "#{identity}\ndefault", "registered before fetching"
    jid, raw = push_job("Winch::Sleep", [800, "replies"])
    wait_started(w, jid)
    assert_equal [raw], redis.lrange(wip_key(identity), 0, -1), "the exact bytes, while it runs"
    assert_equal 0, redis.llen("queue:default")
    wait_reply(jid)
    wait_for("the ack", 5) { redis.llen(wip_key(identity)) == 0 }
    _, fail_raw = push_job("Winch::Fail", ["RuntimeError", "x"])
    wait_for("the retry", 5) { redis.zcard("retry") == 1 }
    assert_equal 0, redis.llen(wip_key(identity)), "a retry leaves the list in the same step"
    assert_clean_exit stop_and_stats(w).first
    refute_includes redis.smembers("winch:wip"), "#{identity}\ndefault", "a clean exit unregisters"
    assert_equal 0, redis.exists(wip_key(identity))
    refute_nil fail_raw
  end

  def test_sigkill_then_another_process_recovers_the_job
    a, id_a = start_winch("-c", "1")
    jid, raw = push_job("Winch::Sleep", [60_000, "replies", "first"])
    wait_started(a, jid)
    kill9(a)
    assert_equal [raw], redis.lrange(wip_key(id_a), 0, -1), "SIGKILL leaves the job in Redis"
    assert_equal 0, redis.llen("queue:default")

    # A live process must not take a live process's jobs: B starts while A's hash exists.
    b, = start_winch("-c", "1")
    sleep 4 # B's first recovery round comes within 3 s
    assert_equal [raw], redis.lrange(wip_key(id_a), 0, -1), "not recovered while A's heartbeat lives"
    assert_equal 0, redis.llen("queue:replies")

    redis.del(id_a) # what the 60 s expiry of a dead process's hash does
    redis.set("winch:recovery_lock", "x", ex: 1) # a round may have just taken the lock
    c, = start_winch("-c", "2")
    wait_for("the recovered job to run again", 15) {
      c.log.include?("jid=#{jid} INFO: start") || b.log.include?("jid=#{jid} INFO: start")
    }
    wait_for("A's list emptied and unregistered", 5) {
      redis.llen(wip_key(id_a)) == 0 && !redis.smembers("winch:wip").include?("#{id_a}\ndefault")
    }
    recovered = [b, c].sum { |w| log_lines(w, "WARN").count { |l| l.include?("recovered job '#{jid}'") } }
    assert_equal 1, recovered, "recovered exactly once"
    assert_equal "1", redis.get("winch:orphaned:#{jid}")
  end

  def test_poison_pill_goes_to_the_dead_set
    jid, raw = push_job("Winch::Sleep", [60_000])
    2.times do |round|
      w, id = start_winch("-c", "1", "--max-recoveries", "1")
      wait_started(w, jid)
      kill9(w)
      redis.del(id)
      redis.del("winch:recovery_lock")
      assert_equal [raw], redis.lrange(wip_key(id), 0, -1), "round #{round}: left in the list"
    end
    w, = start_winch("-c", "1", "--max-recoveries", "1")
    dead = wait_for("the poison pill in the dead set", 15) { redis.zrange("dead", 0, -1).first }
    job = JSON.parse(dead)
    assert_equal jid, job["jid"]
    assert_equal "Winch::PoisonPill", job["error_class"]
    assert_match(/more than 1 winch processes that died/, job["error_message"])
    assert_equal 0, redis.llen("queue:default"), "not requeued a third time"
    # The line is written when the script's reply comes back, just after the dead set has it.
    wait_for("the poison pill's error line", 5) {
      log_lines(w, "ERROR").any? { |l| l.include?(jid) && l.include?("poison pill") }
    }
  end
end
