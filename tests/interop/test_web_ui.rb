# The real Sidekiq 6.4.1 Web UI, driven in-process with Rack::MockRequest on the harness's
# Redis: the Busy page lists the worker under test beside a Ruby sidekiq process with the same
# columns filled, and the Retries, Dead, Scheduled and Queue pages render what the worker
# wrote; the UI's actions (Retry Now, Kill, Add to queue, Quiet, Stop) work on it.
#
# The UI's CSRF check (Sidekiq::Web::CsrfProtection, 6.4.1's own port of rack-protection's
# authenticity token) stays on: the app runs behind a cookie session as a bare Rack app must,
# and every POST sends the token from the form of the page it was read from, as a browser does.
require "minitest/autorun"
require "rack"
require "rack/mock"
require "rack/session/cookie"
require "securerandom"
require "sidekiq/web"
require_relative "../support/harness"

class TestWebUI < Harness::TestCase
  BEATS = 13 # seconds: two heartbeats plus slack (a Web UI signal is read once per beat)
  BIG = 123456789012345678901234567890

  # A form as the page wrote it: where it posts, its fields and its submit buttons.
  Form = Struct.new(:action, :fields, :buttons, :checkboxes, :html)

  # A browser with a cookie jar, enough for the UI's server-rendered forms.
  class Browser
    attr_reader :last

    def initialize(app)
      @app = app
      @cookies = {}
    end

    def get(path)
      request("GET", path)
    end

    # POST fields (name => value pairs, names as the form writes them) form-encoded.
    def post(path, fields)
      body = fields.map { |k, v| "#{CGI.escape(k)}=#{CGI.escape(v)}" }.join("&")
      request("POST", path, input: body, "CONTENT_TYPE" => "application/x-www-form-urlencoded")
    end

    # Submits form with the button named +button+ and the checkboxes whose value is in +check+.
    def submit(form, button, check: [])
      raise ArgumentError, "no button #{button.inspect} in the form" unless form.buttons.key?(button)
      boxes = form.checkboxes.select { |_, v| check.include?(v) }
      raise ArgumentError, "no checkbox among #{check.inspect}" if boxes.size != check.size
      post(form.action, form.fields.to_a + boxes + [[button, form.buttons[button]]])
    end

    private

    def request(method, path, opts = {})
      opts["HTTP_COOKIE"] = @cookies.map { |k, v| "#{k}=#{v}" }.join("; ") unless @cookies.empty?
      @last = Rack::MockRequest.new(@app).request(method, path, opts)
      @last.headers.fetch("Set-Cookie", "").to_s.split("\n").each do |c|
        name, value = c.split(";", 2).first.split("=", 2)
        @cookies[name] = value
      end
      @last
    end
  end

  def setup
    super
    session_app = Rack::Builder.new do
      use Rack::Session::Cookie, secret: SecureRandom.hex(64), same_site: true
      run Sidekiq::Web
    end
    @browser = Browser.new(session_app)
  end

  # ---- pages ------------------------------------------------------------------------------

  # GET path, asserting 200; returns the body.
  def page(path)
    resp = @browser.get(path)
    assert_equal 200, resp.status, "GET #{path}: #{resp.status} #{resp.headers["Location"]}\n#{resp.body[0, 400]}"
    resp.body
  end

  # POST a form; the UI answers every action with a redirect.
  def submit(form, button, check: [])
    resp = @browser.submit(form, button, check: check)
    assert_equal 302, resp.status, "POST #{form.action} (#{button}): #{resp.status}\n#{resp.body[0, 400]}"
    resp
  end

  def forms(html)
    html.scan(%r{<form\b([^>]*)>(.*?)</form>}m).map do |attrs, inner|
      action = attrs[/\baction="([^"]*)"/, 1]
      fields = {}
      buttons = {}
      checkboxes = []
      inner.scan(/<(?:input|button)\b[^>]*>/m).each do |tag|
        name = attr_of(tag, "name")
        next unless name
        value = attr_of(tag, "value") || ""
        case attr_of(tag, "type")
        when "submit" then buttons[name] = value
        when "checkbox" then checkboxes << [name, value]
        else fields[name] = value
        end
      end
      Form.new(action, fields, buttons, checkboxes, inner)
    end
  end

  def attr_of(tag, name)
    m = tag.match(/\b#{name}=(["'])(.*?)\1/m)
    m && CGI.unescapeHTML(m[2])
  end

  # The one form of html whose markup matches +pattern+ (and that has a CSRF token).
  def form(html, pattern, path)
    found = forms(html).select { |f| f.html.match?(pattern) || f.action.to_s.match?(pattern) }
    assert_equal 1, found.size, "one form matching #{pattern.inspect} on #{path}"
    f = found.first
    f.action ||= path
    refute_empty f.fields["authenticity_token"].to_s, "the form carries a CSRF token"
    f
  end

  def table(html, css_class)
    html[%r{<table class="#{css_class} [^"]*">(.*?)</table>}m, 1] or flunk("no #{css_class} table")
  end

  def rows(table_html)
    table_html.scan(%r{<tr\b[^>]*>(.*?)</tr>}m).map(&:first).reject { |r| r.include?("<th") }
  end

  def cells(row_html)
    row_html.scan(%r{<td\b[^>]*>(.*?)</td>}m).map(&:first)
  end

  def text(html)
    CGI.unescapeHTML(html.gsub(/<[^>]*>/, " ")).split.join(" ")
  end

  def time_of(cell)
    stamp = cell[/datetime="([^"]+)"/, 1] or flunk("no <time> in #{cell.inspect}")
    Time.iso8601(stamp)
  end

  # The Busy page's processes table as one hash per process, by identity.
  def busy_processes(html)
    rows(table(html, "processes")).to_h do |row|
      name, started, rss, threads, busy, actions = cells(row)
      name_text = name.sub(/<br>.*/m, "")
      host_pid = text(name_text).split.first
      labels = name_text.scan(%r{<span class="label label-(\w+)">(.*?)</span>}m)
      f = forms(actions).first
      [f.fields["identity"], {
        "host_pid" => host_pid,
        "tag" => labels.select { |k, _| k == "success" }.map(&:last),
        "labels" => labels.select { |k, _| k == "info" }.map(&:last),
        "quiet" => labels.include?(["danger", "quiet"]),
        "queues" => text(name[/<b>.*\z/m]),
        "started" => time_of(started),
        "rss" => text(rss),
        "threads" => text(threads),
        "busy" => text(busy),
        "buttons" => f.buttons.keys.sort,
        "token" => !f.fields["authenticity_token"].to_s.empty?
      }]
    end
  end

  # The Busy page's jobs table: [identity, tid, jid, queue, class, args, run_at] per row.
  def busy_jobs(html)
    rows(table(html, "workers")).map do |row|
      c = cells(row)
      [text(c[0]), text(c[1]), text(c[2]), text(c[3]), text(c[4]), text(c[5]), time_of(c[6])]
    end
  end

  def start_pair(**opts)
    ref = start_worker(kind: :sidekiq, **opts)
    wut = start_worker(**opts)
    refute_equal ref.identity, wut.identity
    [ref, wut]
  end

  # ---- Busy ---------------------------------------------------------------------------------

  def test_busy_page_shows_both_processes_alike
    t0 = Time.now
    ref, wut = start_pair(concurrency: 2, queues: ["default", "webui"], tag: "webui-tag")
    jids = 4.times.map { |i| push("Winch::Sleep", [12_000, nil, "nap#{i}"]) }

    html = nil
    jobs = wait_for("both processes busy with two jobs each on the Busy page", BEATS, interval: 0.2) {
      html = page("/busy")
      j = busy_jobs(html)
      procs = busy_processes(html)
      j if j.size == 4 && procs.size == 2 && procs.values.all? { |p| p["busy"] == "2" }
    }
    procs = busy_processes(html)
    assert_equal [ref.identity, wut.identity].sort, procs.keys.sort
    r = procs.fetch(ref.identity)
    w = procs.fetch(wut.identity)
    [[ref, r], [wut, w]].each do |proc, row|
      assert_equal "#{Harness.hostname}:#{proc.pid}", row["host_pid"], "#{proc.kind} name column"
      assert_operator row["started"], :>=, Time.at(t0.to_i - 1), "#{proc.kind} started"
      assert_operator row["started"], :<=, Time.now, "#{proc.kind} started"
      assert_match(/\A[1-9][\d,]* (KB|MB|GB)\z/, row["rss"], "#{proc.kind} RSS column")
    end
    %w[tag labels quiet queues threads busy buttons token].each do |field|
      assert_equal r[field], w[field], "the #{field} column agrees between Ruby sidekiq and #{wut.kind}"
    end
    assert_equal ["webui-tag"], w["tag"]
    assert_equal [], w["labels"]
    assert_equal false, w["quiet"]
    assert_equal "Queues: default, webui", w["queues"]
    assert_equal "2", w["threads"]
    assert_equal %w[quiet stop], w["buttons"]
    assert_match(/<h3>2<\/h3>\s*<p>Processes<\/p>/, html)
    assert_match(/<h3>4<\/h3>\s*<p>Threads<\/p>/, html)
    assert_match(/<h3>4<\/h3>\s*<p>Busy<\/p>/, html)
    stats = JSON.parse(page("/stats"))["sidekiq"]
    assert_equal 2, stats["processes"]
    assert_equal 4, stats["busy"]
    assert_includes page("/"), "Dashboard"

    by_process = jobs.group_by(&:first)
    assert_equal [ref.identity, wut.identity].sort, by_process.keys.sort
    assert_equal jids.sort, jobs.map { |j| j[2] }.sort
    by_process.each do |identity, list|
      assert_equal 2, list.size, "two jobs on #{identity}"
      assert_equal 2, list.map { |j| j[1] }.uniq.size, "a thread id per job on #{identity}"
      list.each do |_, tid, _, queue, klass, args, run_at|
        assert_match(/\A[0-9a-z]+\z/, tid, "TID column")
        assert_equal "default", queue
        assert_equal "Winch::Sleep", klass
        assert_match(/\A12000, nil, "nap\d"\z/, args)
        assert_operator run_at, :>=, Time.at(t0.to_i - 1)
        assert_operator run_at, :<=, Time.now
      end
    end
  end

  def test_quiet_and_stop_from_the_busy_page
    ref = start_worker(kind: :sidekiq, concurrency: 2, queues: ["default"])
    wut = start_worker(concurrency: 2, queues: ["default", "solo"]) # solo: only the worker's
    html = page("/busy")
    assert_equal [ref.identity, wut.identity].sort, busy_processes(html).keys.sort

    # A POST without the form's token is refused: the CSRF check is live.
    resp = @browser.post("/busy", [["identity", wut.identity], ["quiet", "1"]])
    assert_equal 403, resp.status
    assert_equal 0, redis.llen("#{wut.identity}-signals"), "a refused POST sends no signal"

    submit(form(html, /value="#{Regexp.escape(wut.identity)}"/, "/busy"), "quiet")
    assert_match %r{/busy\z}, @browser.last.headers["Location"]
    wait_for("the quiet label on the worker's row", BEATS, interval: 0.2) {
      busy_processes(page("/busy")).dig(wut.identity, "quiet")
    }
    procs = busy_processes(page("/busy"))
    assert_equal %w[stop], procs[wut.identity]["buttons"], "a quiet process offers only Stop"
    refute procs[ref.identity]["quiet"], "the other process is not quieted"
    assert_equal %w[quiet stop], procs[ref.identity]["buttons"]
    assert wut.alive?, "quiet does not stop the process"
    assert_equal "true", redis.hget(wut.identity, "quiet")
    push("Winch::Noop", [], queue: "solo")
    sleep 2
    assert_equal 1, Sidekiq::Queue.new("solo").size, "a quiet worker takes no new job"

    submit(form(page("/busy"), /value="#{Regexp.escape(wut.identity)}"/, "/busy"), "stop")
    status = wut.wait_exit(BEATS)
    refute_nil status, "the worker exits after Stop"
    assert status.success?, "exit status 0: #{status.inspect}"
    procs = wait_for("the worker's row to leave the Busy page", 5) {
      p = busy_processes(page("/busy"))
      p unless p.key?(wut.identity)
    }
    assert_equal [ref.identity], procs.keys
    assert ref.alive?, "the other process keeps running"
  end

  # ---- Retries and Dead -----------------------------------------------------------------------

  # The detail page's error table: class, message and backtrace, as Sidekiq decodes them.
  def assert_error_table(html, entry, klass, message)
    err = table(html, "error")
    assert_includes err, "<code>#{CGI.escapeHTML(klass)}</code>"
    assert_includes err, "<td>#{CGI.escapeHTML(message)}</td>"
    lines = entry.error_backtrace
    refute_nil lines, "the entry has a backtrace"
    refute_empty lines
    lines.each { |l| refute_empty l.strip }
    assert_includes err, "<code>#{lines.join("<br/>")}</code>", "every backtrace line, in order"
  end

  def test_retries_page_retry_now_and_kill
    jid = push("Winch::Fail", ["ArgumentError", "webui <boom> ✓"], backtrace: true,
      "marker" => BIG)
    start_worker
    entry = wait_for("the retry entry") { Sidekiq::RetrySet.new.first }
    key = "#{entry.score}-#{jid}"

    html = page("/retries")
    row = rows(html[%r{<table class="table.*?</table>}m]).find { |r| r.include?(key) }
    refute_nil row, "the retry is listed"
    c = cells(row)
    assert_equal "0", text(c[2]), "retry count column"
    assert_equal "default", text(c[3])
    assert_equal "Winch::Fail", text(c[4])
    assert_equal %("ArgumentError", "webui <boom> ✓"), text(c[5])
    assert_equal "ArgumentError: webui <boom> ✓", text(c[6])
    assert_in_delta entry.at.to_f, time_of(c[1]).to_f, 1

    html = page("/retries/#{key}")
    assert_includes html, "<code>#{jid}</code>"
    assert_includes html, BIG.to_s, "the extra field, every digit"
    assert_error_table(html, entry, "ArgumentError", "webui <boom> ✓")

    # Retry Now: the job goes back to its queue, the worker runs it, it fails again.
    submit(form(html, /name="retry"/, "/retries/#{key}"), "retry")
    again = wait_for("the retried job to fail again", 10) {
      e = Sidekiq::RetrySet.new.find_job(jid)
      e if e && e["retried_at"]
    }
    assert_equal 0, again["retry_count"], "Retry Now decrements; the new failure counts it back"
    assert_equal entry["failed_at"], again["failed_at"]
    assert_equal 1, Sidekiq::RetrySet.new.size
    wait_for_stats(processed: 2, failed: 2)

    # Kill from the list: the entry moves to the dead set.
    key = "#{again.score}-#{jid}"
    submit(form(page("/retries"), /value='#{Regexp.escape(key)}'/, "/retries"), "kill", check: [key])
    dead = wait_for("the killed entry in the dead set", 5) { Sidekiq::DeadSet.new.find_job(jid) }
    assert_equal 0, Sidekiq::RetrySet.new.size
    html = page("/morgue")
    assert_includes html, "#{dead.score}-#{jid}"
    html = page("/morgue/#{dead.score}-#{jid}")
    assert_error_table(html, dead, "ArgumentError", "webui <boom> ✓")
  end

  def test_morgue_shows_what_the_worker_killed
    jid = push("Winch::Fail", ["Winch::WebError", "dead on arrival"], retry: 0, backtrace: true)
    start_worker
    dead = wait_for("the dead entry") { Sidekiq::DeadSet.new.first }
    key = "#{dead.score}-#{jid}"

    html = page("/morgue")
    row = rows(html[%r{<table class="table.*?</table>}m]).find { |r| r.include?(key) }
    refute_nil row, "the dead job is listed"
    assert_includes text(row), "Winch::Fail"
    assert_includes text(row), "Winch::WebError: dead on arrival"
    html = page("/morgue/#{key}")
    assert_includes html, "<code>#{jid}</code>"
    assert_error_table(html, dead, "Winch::WebError", "dead on arrival")
  end

  # ---- Queues and Scheduled --------------------------------------------------------------------

  def test_queue_page_shows_the_worker_s_pushes
    jid = push("Winch::Echo", ["webui_replies", "ünï", BIG])
    start_worker
    reply = wait_for("the echo reply") { replies("webui_replies").first }

    html = page("/queues")
    assert_match %r{<a href="/queues/webui_replies">webui_replies</a>}, html
    html = page("/queues/webui_replies")
    assert_includes table(html, "queue"), %(<tr title="#{reply["jid"]}">)
    row = rows(table(html, "queue")).first
    c = cells(row)
    assert_equal "Winch::EchoReply", text(c[1])
    assert_equal %("#{jid}", "ünï", #{BIG}), text(c[2]), "args as the worker wrote them"
  end

  def test_scheduled_page_add_to_queue
    at = Time.now.to_f + 3600
    jid = Sidekiq::Client.push("class" => "Winch::Echo", "args" => ["webui_replies", "later"], "at" => at)
    start_worker
    entry = Sidekiq::ScheduledSet.new.first
    key = "#{entry.score}-#{jid}"

    html = page("/scheduled")
    assert_includes html, key
    assert_includes page("/scheduled/#{key}"), "<code>#{jid}</code>"

    submit(form(html, /value='#{Regexp.escape(key)}'/, "/scheduled"), "add_to_queue", check: [key])
    reply = wait_for("the worker to run the job added to its queue") { replies("webui_replies").first }
    assert_equal [jid, "later"], reply["args"]
    assert_equal 0, Sidekiq::ScheduledSet.new.size
    assert_includes page("/scheduled"), "No scheduled jobs were found"
  end
end
