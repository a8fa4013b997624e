# sid_apt WORK: a private apt state in the folder WORK that knows Debian sid
# (its main component, amd64), and apt_opts, the options that make apt-get
# use it, so that `apt-get "${apt_opts[@]}" update`, `download`, ... never
# read or touch the system's sources, lists or status.  Sourced by
# .ci/python.sh (sid's interpreters) and .ci/valgrind.sh (sid's libc6-dbg).
sid_apt() {
  local work=$1
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/parts" "$work/debs"
  printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' 'Suites: sid' \
    'Components: main' 'Architectures: amd64' \
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' > "$work/sid.sources"
  apt_opts=(
    -o "Dir::Etc::SourceList=$work/sid.sources" -o "Dir::Etc::SourceParts=$work/parts"
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
    -o Dir::State::Status=/dev/null -o "Dir::Etc::Preferences=$work/none"
    -o "Dir::Etc::PreferencesParts=$work/parts" -o Acquire::Languages=none
    -o APT::Sandbox::User=root
  )
}
