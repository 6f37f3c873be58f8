# Handler modules built in tests as a user builds them: winch's `make install` staged into a
# directory (DESTDIR), then `cc -shared -fPIC -o x.so x.c $(pkg-config --cflags --libs winch)`
# with pkg-config pointed at the stage. Used by the integration and interop module tests.
require "fileutils"
require "open3"

module ModuleBuild
  class Error < StandardError; end

  # A staged `make install` of winch: <root>/usr/local/{bin,lib,include}.
  class Stage
    attr_reader :root

    # Installs the build in build_dir (a configured build tree, e.g. <repo>/build) into
    # root. Raises ModuleBuild::Error with make's output if that fails.
    def initialize(build_dir, root)
      @root = root
      FileUtils.mkdir_p(root)
      out, status = Open3.capture2e("make", "-s", "-C", build_dir, "install", "DESTDIR=#{root}")
      raise Error, "make install into #{root} failed:\n#{out}" unless status.success?
      raise Error, "make install put no winch in #{winch}" unless File.executable?(winch)
    end

    def prefix
      File.join(@root, "usr/local")
    end

    def winch
      File.join(prefix, "bin/winch")
    end

    def libdir
      File.join(prefix, "lib")
    end

    # What a user sets when winch is installed where pkg-config does not look.
    def pkg_config_env
      {"PKG_CONFIG_PATH" => File.join(libdir, "pkgconfig"), "PKG_CONFIG_SYSROOT_DIR" => @root}
    end

    # The environment that runs the staged winch (its libwinch is not in the loader's path).
    def run_env
      {"LD_LIBRARY_PATH" => libdir}
    end

    # `pkg-config ARGS winch` against the stage, as shell words.
    def pkg_config(*args)
      out, status = Open3.capture2e(pkg_config_env, "pkg-config", *args, "winch")
      raise Error, "pkg-config #{args.join(" ")} winch failed:\n#{out}" unless status.success?
      out.split
    end

    # Builds the shared object +so+ from the C file +src+ with exactly the command the README
    # gives. Raises with the compiler's output if it fails or warns. Returns +so+.
    def compile(src, so)
      cmd = ["cc", "-shared", "-fPIC", "-o", so, src, *pkg_config("--cflags", "--libs")]
      out, status = Open3.capture2e(*cmd)
      raise Error, "#{cmd.join(" ")} failed:\n#{out}" unless status.success?
      raise Error, "#{cmd.join(" ")} warned:\n#{out}" unless out.empty?
      so
    end

    # Writes +source+ to <dir>/<name>.c and compiles it to <dir>/<name>.so.
    def compile_source(dir, name, source)
      FileUtils.mkdir_p(dir)
      src = File.join(dir, "#{name}.c")
      File.write(src, source)
      compile(src, File.join(dir, "#{name}.so"))
    end

    # Copies a directory holding a module's .c and Makefile (handlers/examples) to +dir+ and
    # runs `make` there with pkg-config pointed at the stage. Returns make's output.
    def make(example_dir, dir, *files)
      FileUtils.mkdir_p(dir)
      files.each { |f| FileUtils.cp(File.join(example_dir, f), dir) }
      out, status = Open3.capture2e(pkg_config_env, "make", "-C", dir)
      raise Error, "make in #{dir} failed:\n#{out}" unless status.success?
      out
    end
  end

  module_function

  # The configured build tree of the winch binary under test: the directory holding it when
  # that has a Makefile (build/winch, build-asan/winch), else <repo>/build.
  def build_dir_for(winch_path, root)
    dir = File.dirname(File.expand_path(winch_path))
    return dir if File.exist?(File.join(dir, "Makefile"))
    dir = File.join(root, "build")
    raise Error, "no configured build tree for #{winch_path} (run scripts/build.sh)" unless
      File.exist?(File.join(dir, "Makefile"))
    dir
  end
end
