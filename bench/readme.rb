# Writes the bench table into README.md's "## Performance" section: creates the section
# (before "## How it is built", or at the end) or replaces the generated block inside it,
# leaving any prose around the markers alone.
#   ruby bench/readme.rb README.md table.md stamp.md [yes-if-plot]
readme, table_path, stamp_path, plot = ARGV
text = File.read(readme)
BEGIN_MARK = "<!-- bench/run.sh: begin -->"
END_MARK = "<!-- bench/run.sh: end -->"
block = +"#{BEGIN_MARK}\n#{File.read(stamp_path).strip}\n\n#{File.read(table_path).strip}\n"
block << "\n![jobs per second, Ruby Sidekiq and winch](bench/results.png)\n" if plot == "yes"
block << END_MARK

if text.include?(BEGIN_MARK) && text.include?(END_MARK)
  text = text.sub(/#{Regexp.escape(BEGIN_MARK)}.*?#{Regexp.escape(END_MARK)}/m) { block }
else
  section = <<~MD
    ## Performance

    `bench/run.sh` runs Ruby Sidekiq 6.4.1 (with the Ruby stand-ins of the built-in handlers,
    tests/support/winch_jobs.rb) and then winch on the same throwaway redis-server, the same
    job sets, the same `-c` and the same log level (warn, both), and writes this table. The
    no-op and Digest rates are timed from the worker's start to an empty queue, after jobs were
    pushed with `push_bulk` in batches of 1,000; every run is checked after a clean TERM
    (`stat:processed` equals the jobs pushed). CPU is the reaped worker's user + system time,
    start-up included; RSS is the peak of VmRSS sampled every 50 ms (and VmHWM). Idle latency is
    push-to-reply of one `Winch::Echo` at a time, as a client sees it (`Sidekiq::Client.push`,
    then BRPOP on the reply queue), so it includes two client round trips. The RTT run goes
    through `bench/delayproxy.c`, which holds each direction 0.5 ms. See `bench/run.sh` for the
    settings.

    #{block}

  MD
  if text =~ /^## How it is built/
    text = text.sub(/^## How it is built/) { section + "## How it is built" }
  else
    text = text.rstrip + "\n\n" + section
  end
end
File.write(readme, text)
warn "bench: README.md's Performance section updated"
