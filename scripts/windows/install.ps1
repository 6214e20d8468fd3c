<#
.SYNOPSIS
    Installs (or updates) the Rehome agent on this Windows device, silently.

.DESCRIPTION
    For an Intune Win32 app, a Group Policy startup script or a Configuration Manager application. Run it as SYSTEM or
    as an elevated administrator from the folder that holds the published agent (rehome-agent.exe and its files, as
    `dotnet publish src/Rehome.Agent -c Release -r win-x64 --self-contained -o <folder>` makes them) and this script.

    1. Copies the agent to -InstallFolder (default %ProgramFiles%\Rehome\Agent, writable by administrators only; an
       Intune cache folder is deleted after the install), stopping the running service first on an update.
    2. Runs `rehome-agent.exe install` from there: creates %ProgramData%\Rehome with its Agent, staging and logs
       folders (owned by Administrators, SYSTEM and Administrators only), writes %ProgramData%\Rehome\agent.json (server,
       configuration key, poll time; readable by SYSTEM and Administrators only), registers the RehomeAgent service
       (LocalSystem, automatic start, restart after 10 s, 30 s, 60 s) and starts it.
    Running it again gives the same result. The configuration key is never written to the output or the log; the
    agent deletes it from agent.json once it has enrolled.

    Exit codes: 0 installed; 1 wrong parameters or not elevated; 2 a Rehome folder exists that is not safe (a user
    created or owns it, or it is a link: look at it, delete it, run again); 3 the service control manager refused;
    4 copying the agent failed. 1641 and 3010 are never used: no restart is needed.

.PARAMETER ServerUrl
    The Rehome server, e.g. https://rehome.example.com.

.PARAMETER ConfigurationKey
    The source connection's configuration key (used once, to enroll). Prefer -ConfigurationKeyFile in Intune: a
    command line can be seen in deployment logs.

.PARAMETER ConfigurationKeyFile
    A file, packaged beside this script, whose first line is the configuration key.

.EXAMPLE
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File install.ps1 -ServerUrl https://rehome.example.com -ConfigurationKeyFile key.txt
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string] $ServerUrl,
    [string] $ConfigurationKey,
    [string] $ConfigurationKeyFile,
    [ValidateRange(1, 300)][int] $PollSeconds = 0,
    [switch] $DelayedStart,
    [string] $InstallFolder = (Join-Path $env:ProgramFiles 'Rehome\Agent')
)

$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'common.ps1')
Assert-Elevated

if ($ConfigurationKeyFile) {
    $keyPath = if ([IO.Path]::IsPathRooted($ConfigurationKeyFile)) { $ConfigurationKeyFile } else { Join-Path $PSScriptRoot $ConfigurationKeyFile }
    $ConfigurationKey = (Get-Content -LiteralPath $keyPath -TotalCount 1).Trim()
}
if ([string]::IsNullOrWhiteSpace($ConfigurationKey)) {
    Write-Log 'Give -ConfigurationKey or -ConfigurationKeyFile: nothing was changed.'
    exit 1
}

$source = $PSScriptRoot
if (-not (Test-Path -LiteralPath (Join-Path $source 'rehome-agent.exe'))) {
    Write-Log "rehome-agent.exe is not beside this script in $source."
    exit 1
}

try {
    $service = Get-Service -Name 'RehomeAgent' -ErrorAction SilentlyContinue
    if ($service -and $service.Status -ne 'Stopped') {
        Write-Log 'Stopping the RehomeAgent service to update its files.'
        Stop-Service -Name 'RehomeAgent' -Force
        $service.WaitForStatus('Stopped', [TimeSpan]::FromSeconds(60))
    }
    if ((Resolve-Path -LiteralPath $source).Path -ne $InstallFolder) {
        New-Item -ItemType Directory -Path $InstallFolder -Force | Out-Null
        Copy-Item -Path (Join-Path $source '*') -Destination $InstallFolder -Recurse -Force -Exclude '*.ps1', '*.txt'
        Write-Log "Agent copied to $InstallFolder."
    }
}
catch {
    Write-Log "Copying the agent failed: $($_.Exception.Message)"
    exit 4
}

$arguments = @('install', '--server-url', $ServerUrl, '--configuration-key', $ConfigurationKey)
if ($PollSeconds -gt 0) { $arguments += @('--poll-seconds', "$PollSeconds") }
if ($DelayedStart) { $arguments += '--delayed-start' }
Write-Log "Running rehome-agent.exe install --server-url $ServerUrl (configuration key not shown)."
$output = & (Join-Path $InstallFolder 'rehome-agent.exe') @arguments 2>&1
$code = $LASTEXITCODE
foreach ($line in $output) { Write-Log "$line" }
Write-Log "rehome-agent.exe install exited with $code."
exit $code
