# Dot-sourced by install.ps1 and uninstall.ps1 (package it with them): the log and the elevation check.
$log = Join-Path $env:windir 'Temp\RehomeAgent-install.log'

function Write-Log([string] $message) {
    $line = '{0:u} {1}' -f (Get-Date), $message
    Add-Content -Path $log -Value $line
    Write-Output $line
}

# SYSTEM (Intune, Configuration Manager, a GPO startup script) or an elevated administrator; exit 1 otherwise.
function Assert-Elevated {
    $principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
    if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
        Write-Log 'Run as SYSTEM or as an elevated administrator: nothing was changed.'
        exit 1
    }
}
