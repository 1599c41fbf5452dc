/** Sign in and sign up: one form, two modes. */
import { type FormEvent, type ReactElement, useEffect, useState } from 'react'
import type { ApiResult } from '../api/client.js'
import { signIn, signUp } from '../api/endpoints.js'
import { Link } from '../components/Link.js'
import { navigate } from '../router.js'
import { useSession } from '../session.js'

/** Shortest password the server accepts. */
const MIN_PASSWORD_LENGTH = 10

export const AuthPage = ({
  mode,
  next,
}: {
  mode: 'signin' | 'signup'
  next: string
}): ReactElement => {
  const { session, reload } = useSession()
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [name, setName] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [isBusy, setIsBusy] = useState(false)
  const isSignUp = mode === 'signup'

  // Someone already signed in has nothing to do here.
  useEffect(() => {
    if (session.status === 'signed-in') navigate(next, { replace: true })
  }, [session.status, next])

  const handleSubmit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault()
    setError(null)
    if (isSignUp && password.length < MIN_PASSWORD_LENGTH) {
      setError(`Use a password of at least ${MIN_PASSWORD_LENGTH} characters.`)
      return
    }
    setIsBusy(true)
    const result = isSignUp
      ? await signUp({ email: email.trim(), password, name: name.trim() })
      : await signIn({ email: email.trim(), password })
    if (!result.ok) {
      setIsBusy(false)
      setError(describeAuthError(result, mode))
      return
    }
    await reload()
    setIsBusy(false)
    navigate(next, { replace: true })
  }

  const otherPath = `${isSignUp ? '/signin' : '/signup'}${next === '/' ? '' : `?next=${encodeURIComponent(next)}`}`
  return (
    <main className="auth-page">
      <div className="auth-card">
        <div className="auth-brand" aria-hidden="true">
          <span className="brand-mark" />
          <span className="brand-name">Quire</span>
        </div>
        <h1>{isSignUp ? 'Create your account' : 'Sign in'}</h1>
        <form onSubmit={(event) => void handleSubmit(event)} noValidate={false}>
          {isSignUp && (
            <label className="field">
              <span>Name</span>
              <input
                name="name"
                autoComplete="name"
                required
                maxLength={100}
                value={name}
                onChange={(event) => setName(event.target.value)}
              />
            </label>
          )}
          <label className="field">
            <span>Email</span>
            <input
              name="email"
              type="email"
              autoComplete="email"
              required
              maxLength={320}
              value={email}
              onChange={(event) => setEmail(event.target.value)}
            />
          </label>
          <label className="field">
            <span>Password</span>
            <input
              name="password"
              type="password"
              autoComplete={isSignUp ? 'new-password' : 'current-password'}
              required
              minLength={isSignUp ? MIN_PASSWORD_LENGTH : undefined}
              maxLength={256}
              value={password}
              onChange={(event) => setPassword(event.target.value)}
              aria-describedby={isSignUp ? 'password-hint' : undefined}
            />
            {isSignUp && (
              <small id="password-hint" className="hint">
                At least {MIN_PASSWORD_LENGTH} characters.
              </small>
            )}
          </label>
          {error !== null && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" className="button button-primary button-wide" disabled={isBusy}>
            {isBusy ? 'Please wait…' : isSignUp ? 'Create account' : 'Sign in'}
          </button>
        </form>
        <p className="auth-switch">
          {isSignUp ? 'Already have an account? ' : 'New to Quire? '}
          <Link to={otherPath}>{isSignUp ? 'Sign in' : 'Create an account'}</Link>
        </p>
      </div>
    </main>
  )
}

const describeAuthError = (result: ApiResult<unknown> & { ok: false }, mode: string): string => {
  if (result.status === 0) return 'Cannot reach Quire. Check your connection and try again.'
  if (result.status === 429) {
    const minutes = Math.max(1, Math.ceil((result.retryAfterS ?? 60) / 60))
    return `Too many attempts, try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`
  }
  if (mode === 'signin' && result.status === 401) return 'Wrong email or password.'
  if (result.status === 409) return 'An account with this email already exists. Sign in instead.'
  if (result.status === 400) return capitalise(result.error)
  if (result.status >= 500) return 'Something went wrong on our side. Please try again.'
  return capitalise(result.error)
}

const capitalise = (text: string): string =>
  text === ''
    ? text
    : `${text[0]?.toUpperCase() ?? ''}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}`
