//! `[git]`: the git projection (`<data>/content.git`) and its mirrors.
//!
//! Kept beside the code that uses it rather than in `config.rs`, like `[site.settings]` lives in
//! `quire-render`; [`crate::config::Config`] holds it as `git` and calls [`GitConfig::validate`].

use serde::{Deserialize, Serialize};

/// `[git]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GitConfig {
    /// Keep `<data>/content.git` in step with the event log (one commit per event).
    pub enabled: bool,
    /// `title` in the repository's `hugo.toml`; unset: `site.settings.title`. Written with the
    /// first commit, so it is part of the history: change it later and `quire verify` reports
    /// that commit until `quire rebuild git` rewrites the history (new commit ids).
    pub site_title: Option<String>,
    /// `baseURL` in `hugo.toml`; unset: `site.settings.base_url`. Part of the history, like
    /// `site_title`.
    pub base_url: Option<String>,
    /// Commit authors are `<username>@<author_email_domain>`…
    pub author_email_domain: String,
    /// …unless this is set: then every commit's author has this email.
    pub author_email: Option<String>,
    /// Name of the committer of every commit.
    pub committer_name: String,
    /// Email of the committer of every commit.
    pub committer_email: String,
    /// `/readyz` answers 503 while git is more than this many events behind the log.
    pub max_lag: u64,
    /// `[[git.remotes]]`: repositories that `main` is pushed to after new commits (a backup off
    /// the device), with the `git` command.
    pub remotes: Vec<RemoteConfig>,
    /// Pause after the first failed push to a remote, in seconds; it doubles with each further
    /// failure…
    pub push_retry_initial_secs: u64,
    /// …up to this many seconds.
    pub push_retry_max_secs: u64,
    /// A push still running after this many seconds is stopped and counts as failed.
    pub push_timeout_secs: u64,
}

/// One `[[git.remotes]]` entry.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RemoteConfig {
    /// A name for status pages and logs; unset: the URL without credentials. A remote that
    /// pulls needs one: it is the `{remote}` of its webhook URL, `/api/v1/hooks/git/{remote}`.
    #[serde(default)]
    pub name: Option<String>,
    /// What `git push` (and, with `pull`, `git fetch`) is given: a path, `file://`, `ssh://`,
    /// `git@host:repo.git` or `https://` URL. Authentication must work without a prompt (SSH
    /// keys, a credential helper).
    pub url: String,
    /// Import the commits made on the forge (see [`crate::git::forge`]): on a signed webhook
    /// delivery and every `pull_interval_secs`.
    #[serde(default)]
    pub pull: bool,
    /// The branch pulled from the forge (default `main`); Quire's `main` is pushed to `main`.
    #[serde(default)]
    pub branch: Option<String>,
    /// The user whose rights a pull is checked against and who is the actor of its events,
    /// like a pusher (role ∩ scopes: `posts:write`, `posts:publish` for published posts).
    #[serde(default)]
    pub user: Option<String>,
    /// The webhook secret the forge signs deliveries with. Prefer `secret_file`; never shown
    /// in logs, `/api/v1/status` or a backup's configuration.
    #[serde(default)]
    pub secret: Option<String>,
    /// A file holding the webhook secret (surrounding whitespace is ignored).
    #[serde(default)]
    pub secret_file: Option<std::path::PathBuf>,
    /// Also pull every this many seconds (0: only on webhook deliveries), for forges that
    /// cannot reach the server.
    #[serde(default)]
    pub pull_interval_secs: u64,
}

impl std::fmt::Debug for RemoteConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteConfig")
            .field("name", &self.name)
            .field("url", &redact_url(&self.url))
            .field("pull", &self.pull)
            .field("branch", &self.branch)
            .field("user", &self.user)
            .field("secret", &self.secret.as_ref().map(|_| "(set)"))
            .field("secret_file", &self.secret_file)
            .field("pull_interval_secs", &self.pull_interval_secs)
            .finish()
    }
}

impl Default for GitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            site_title: None,
            base_url: None,
            author_email_domain: "users.quire.invalid".into(),
            author_email: None,
            committer_name: "Quire".into(),
            committer_email: "quire@quire.invalid".into(),
            max_lag: 1000,
            remotes: Vec::new(),
            push_retry_initial_secs: 2,
            push_retry_max_secs: 300,
            push_timeout_secs: 120,
        }
    }
}

impl GitConfig {
    /// Explains the first bad value.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.max_lag >= 1, "git.max_lag must be at least 1");
        for (key, value) in [
            ("git.committer_name", self.committer_name.as_str()),
            ("git.committer_email", self.committer_email.as_str()),
            ("git.author_email_domain", self.author_email_domain.as_str()),
        ] {
            anyhow::ensure!(!value.trim().is_empty(), "{key} must not be empty");
            anyhow::ensure!(
                !value.contains(['<', '>', '\n']),
                "{key} = {value:?} must not contain <, > or a line break"
            );
        }
        anyhow::ensure!(
            self.push_retry_initial_secs >= 1 && self.push_retry_max_secs >= self.push_retry_initial_secs,
            "git.push_retry_initial_secs must be at least 1 and at most git.push_retry_max_secs"
        );
        anyhow::ensure!(self.push_timeout_secs >= 1, "git.push_timeout_secs must be at least 1");
        let mut names = std::collections::HashSet::new();
        for remote in &self.remotes {
            let url = remote.url.trim();
            anyhow::ensure!(!url.is_empty(), "git.remotes: url must not be empty");
            // `git push <url>`: a leading `-` would be read as an option.
            anyhow::ensure!(
                !url.starts_with('-') && !url.contains('\n'),
                "git.remotes: url {:?} must not start with '-' or contain a line break",
                redact_url(url)
            );
            let name = remote.display_name();
            anyhow::ensure!(
                names.insert(name.clone()),
                "git.remotes: two remotes are named {name:?}"
            );
            if remote.pull {
                remote.validate_pull()?;
            }
        }
        Ok(())
    }
}

impl RemoteConfig {
    /// The name shown in status and logs.
    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| redact_url(&self.url))
    }

    /// The branch pulled from the forge.
    pub fn pull_branch(&self) -> &str {
        self.branch.as_deref().unwrap_or("main")
    }

    /// The webhook secret, from `secret` or `secret_file`.
    pub fn hook_secret(&self) -> anyhow::Result<Option<String>> {
        if let Some(secret) = &self.secret {
            return Ok(Some(secret.clone()));
        }
        let Some(file) = &self.secret_file else { return Ok(None) };
        let text = std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("git.remotes: reading secret_file {}: {e}", file.display()))?;
        Ok(Some(text.trim().to_owned()))
    }

    /// What a pulling remote needs: a name fit for a URL, a user, a branch name, a secret.
    fn validate_pull(&self) -> anyhow::Result<()> {
        let name = self.name.as_deref().unwrap_or_default();
        anyhow::ensure!(
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
            "git.remotes: a remote with pull = true needs a name of letters, digits, '.', '_' or '-' \
             (it is the {{remote}} in /api/v1/hooks/git/{{remote}}); got {name:?}"
        );
        anyhow::ensure!(
            self.user.as_deref().is_some_and(|u| !u.trim().is_empty()),
            "git.remotes {name:?}: pull = true needs user = \"<the Quire user its changes are made as>\""
        );
        let branch = self.pull_branch();
        anyhow::ensure!(
            !branch.is_empty()
                && !branch.starts_with('-')
                && !branch.contains([' ', ':', '\n', '~', '^', '*', '?', '[']),
            "git.remotes {name:?}: branch {branch:?} is not a branch name"
        );
        anyhow::ensure!(
            !(self.secret.is_some() && self.secret_file.is_some()),
            "git.remotes {name:?}: set secret or secret_file, not both"
        );
        if let Some(secret) = self.hook_secret()? {
            anyhow::ensure!(
                secret.len() >= 16,
                "git.remotes {name:?}: the webhook secret must be at least 16 characters"
            );
        } else {
            anyhow::ensure!(
                self.pull_interval_secs > 0,
                "git.remotes {name:?}: pull = true needs a secret (or secret_file) for webhooks, \
                 or pull_interval_secs for periodic pulls"
            );
        }
        Ok(())
    }
}

/// `url` without its user info (`https://user:secret@host/…` → `https://***@host/…`; a token is
/// often the user name), so it can be shown to every logged-in user and written to logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let host_start = rest.find('/').unwrap_or(rest.len());
    match rest[..host_start].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_show() {
        assert_eq!(
            redact_url("https://ada:tok3n@example.org/blog.git"),
            "https://***@example.org/blog.git"
        );
        assert_eq!(
            redact_url("https://tok3n@example.org/a@b.git"),
            "https://***@example.org/a@b.git"
        );
        assert_eq!(redact_url("git@example.org:blog.git"), "git@example.org:blog.git");
        assert_eq!(redact_url("/srv/backup.git"), "/srv/backup.git");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own large error type
    fn remotes_come_from_the_file_and_title_from_the_site() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "quire.toml",
                "[site.settings]\ntitle = \"Ada's notes\"\n\n[git]\nmax_lag = 5\n\n\
                 [[git.remotes]]\nurl = \"/srv/backup.git\"\n\n\
                 [[git.remotes]]\nname = \"hub\"\nurl = \"git@example.org:ada/blog.git\"\n",
            )?;
            jail.set_env("QUIRE_GIT__MAX_LAG", "7");
            let config = crate::Config::load(Some(std::path::Path::new("quire.toml"))).expect("loads");
            config.validate().expect("valid");
            assert_eq!(config.git.max_lag, 7, "environment wins over the file");
            let names: Vec<String> = config.git.remotes.iter().map(RemoteConfig::display_name).collect();
            assert_eq!(names, ["/srv/backup.git", "hub"]);
            let settings = crate::git::settings(&config);
            assert_eq!(settings.site_title, "Ada's notes");
            assert_eq!(settings.base_url, config.site.settings.base_url);
            Ok(())
        });
    }

    #[test]
    fn validate_explains_bad_values() {
        let mut config = GitConfig::default();
        config.validate().expect("defaults are valid");
        config.remotes.push(RemoteConfig {
            name: None,
            url: "--upload-pack=evil".into(),
            ..RemoteConfig::default()
        });
        assert!(config.validate().expect_err("option").to_string().contains("'-'"));
        config.remotes = vec![
            RemoteConfig {
                name: Some("a".into()),
                url: "/x".into(),
                ..RemoteConfig::default()
            },
            RemoteConfig {
                name: Some("a".into()),
                url: "/y".into(),
                ..RemoteConfig::default()
            },
        ];
        assert!(config.validate().expect_err("dup").to_string().contains("two remotes"));
        let pulling = RemoteConfig {
            name: Some("hub".into()),
            url: "/srv/hub.git".into(),
            pull: true,
            user: Some("ada".into()),
            secret: Some("a-secret-of-16-chars".into()),
            ..RemoteConfig::default()
        };
        config.remotes = vec![pulling.clone()];
        config.validate().expect("a pulling remote");
        for (broken, says) in [
            (
                RemoteConfig {
                    name: None,
                    ..pulling.clone()
                },
                "needs a name",
            ),
            (
                RemoteConfig {
                    name: Some("a b".into()),
                    ..pulling.clone()
                },
                "needs a name",
            ),
            (
                RemoteConfig {
                    user: None,
                    ..pulling.clone()
                },
                "needs user",
            ),
            (
                RemoteConfig {
                    secret: None,
                    ..pulling.clone()
                },
                "needs a secret",
            ),
            (
                RemoteConfig {
                    secret: Some("short".into()),
                    ..pulling.clone()
                },
                "at least 16",
            ),
            (
                RemoteConfig {
                    branch: Some("-x".into()),
                    ..pulling.clone()
                },
                "not a branch",
            ),
        ] {
            config.remotes = vec![broken];
            let error = config.validate().expect_err(says).to_string();
            assert!(error.contains(says), "{error}");
        }
        let shown = format!("{pulling:?}");
        assert!(!shown.contains("a-secret-of-16-chars"), "{shown}");
        config.remotes.clear();
        config.max_lag = 0;
        assert!(config.validate().expect_err("lag").to_string().contains("max_lag"));
    }
}
