<#
.SYNOPSIS
    Removes the Rehome agent from this Windows device, silently.

.DESCRIPTION
    Runs `rehome-agent.exe uninstall` from -InstallFolder (stops and deletes the RehomeAgent service, removes
    %ProgramData%\Rehome and HKLM\SOFTWARE\Rehome unless -KeepData), then deletes -InstallFolder.
    -KeepData keeps the agent's identity, journals and settings, so that a reinstall goes on as the same agent.
    Do not uninstall while a job runs on the device: its journal is what lets it finish or go back.

    Exit codes: 0 removed (or was not installed); 1 not elevated; 3 the service control manager refused; 4 the
    install folder could not be deleted. 1641 and 3010 are never used.

.EXAMPLE
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File uninstall.ps1
#>
[CmdletBinding()]
param(
    [switch] $KeepData,
    [string] $InstallFolder = (Join-Path $env:ProgramFiles 'Rehome\Agent')
)

$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'common.ps1')
Assert-Elevated

$agent = Join-Path $InstallFolder 'rehome-agent.exe'
if (Test-Path -LiteralPath $agent) {
    $arguments = @('uninstall')
    if ($KeepData) { $arguments += '--keep-data' }
    $output = & $agent @arguments 2>&1
    $code = $LASTEXITCODE
    foreach ($line in $output) { Write-Log "$line" }
    if ($code -ne 0) {
        Write-Log "rehome-agent.exe uninstall exited with $code."
        exit $code
    }
}
else {
    Write-Log "No agent in $InstallFolder; nothing to uninstall."
}

try {
    if (Test-Path -LiteralPath $InstallFolder) {
        Remove-Item -LiteralPath $InstallFolder -Recurse -Force
        Write-Log "Removed $InstallFolder."
    }
}
catch {
    Write-Log "Removing $InstallFolder failed: $($_.Exception.Message)"
    exit 4
}
exit 0
